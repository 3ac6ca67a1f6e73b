"""The Assets page's first thumbnails, asked for while the page's live connection is still starting.

On a cold load the grid's pictures wait for the page's scripts, the websocket, the server's answer to the page
load and React drawing the grid (~0.6 s on 2 cores); only then do their requests start. This script, in the
page's HTML head, reads the same first page through the REST API (same search: the URL's query is the API's)
as soon as the document is parsed, and starts those thumbnails then. The grid's <img> elements later ask for
the same URLs and get them from the browser's memory cache. A wrong guess (a page the REST answer does not
match) costs a few requests and changes nothing on screen.
"""

import reflex as rx

from app import routes
from components.library.grid import EAGER_TILES

# Built by the helper the grid's cards use (app.services.library.cards), on JavaScript placeholders.
THUMB_URL_JS = routes.asset_thumbnail_url("${a.id}", "${a.status}")

PREFETCH_JS = f"""(() => {{
  if (location.pathname.replace(/\\/+$/, '') !== '{routes.ASSETS}') return;
  const query = (location.search ? location.search + '&' : '?') + 'limit={EAGER_TILES}';
  const go = () => fetch('{routes.ASSETS_API}' + query, {{credentials: 'same-origin'}})
    .then(r => (r.ok ? r.json() : {{assets: []}}))
    .then(page => {{
      window.__firstThumbnails = (page.assets || []).filter(a => a.status === 'ready').map(a => {{
        const img = new Image();
        img.fetchPriority = 'high';
        img.src = `{THUMB_URL_JS}`;
        return img;
      }});
    }})
    .catch(() => {{}});
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', go, {{once: true}});
  else go();
}})();"""


def thumbnail_prefetch() -> rx.Component:
    return rx.el.script(custom_attrs={"dangerouslySetInnerHTML": {"__html": PREFETCH_JS}})
