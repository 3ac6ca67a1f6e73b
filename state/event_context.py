"""A request id per page event: Reflex runs event handlers inside the websocket, where no HTTP request (and so
no X-Request-ID) exists per click. Registered with `app.add_middleware` in app/app.py.

The preprocess step runs in the same task as the handler it precedes, so the ids set here are on the
handler's log lines and go into the jobs it enqueues (app/queue.py); `session_user` adds the user and
workspace. A background handler starts from a copy of this context, so it keeps the event's id.
"""

from __future__ import annotations

import logging

from reflex.middleware import Middleware

from app.observability import logs

log = logging.getLogger("atelier.events")


class EventContext(Middleware):
    async def preprocess(self, app, state, event):
        # A fresh context per event: nothing learnt while handling the previous event of this socket carries over.
        logs.start_event(request_id=logs.new_request_id())
        log.debug("event %s", event.name)
        return None
