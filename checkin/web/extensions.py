"""Flask extensions, created unbound here and bound to the app in create_app()."""

from flask_babel import Babel
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
# Threading mode (with simple-websocket) is what Flask-SocketIO's author recommends for new
# projects; it is set explicitly because merely installing gevent would change the default.
socketio = SocketIO(async_mode="threading")
