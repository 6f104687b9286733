"""Pictures of a schema, beside the symbolic core (which never imports this package).

Three modules: :mod:`~category.drawing.layout` is the geometry (pure: boxes and curves
in points, no drawing library), :mod:`~category.drawing.render` turns it into a
matplotlib figure, a PNG / SVG / PDF file, or Graphviz ``dot`` text. matplotlib is
imported only when a picture is drawn.

>>> from category import Schema
>>> from category.drawing import draw
>>> S = Schema.parse(open("examples/cyclegan.schema").read())
>>> type(draw(S)).__name__                 # the same as S.draw()
'Figure'
"""

from .maps import draw_map, map_figure
from .render import ENGINES, EQUATIONS, FORMATS, draw, figure, to_dot

__all__ = ["ENGINES", "EQUATIONS", "FORMATS", "draw", "draw_map", "figure", "map_figure",
           "to_dot"]
