# Runs moto's own server with DynamoDB requests taken one at a time.
#
# moto's DynamoDB checks a write's condition and then applies it with no
# lock, so under load two concurrent conditional writes to one item can both
# pass (seen in CI: two approvals each counted as the first). Real DynamoDB
# applies conditional writes to an item one at a time, which is what the
# product relies on, so the emulator is held to that here. Step Functions
# requests stay concurrent: a state machine's own DynamoDB calls come back
# through this server and take the lock like any other client's.
import sys
import threading

from moto import server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_dynamodb = threading.Lock()
_dispatch = DomainDispatcherApplication.__call__


def _serialized(self, environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with _dynamodb:
            # The whole body is produced under the lock.
            return list(_dispatch(self, environ, start_response))
    return _dispatch(self, environ, start_response)


DomainDispatcherApplication.__call__ = _serialized
server.main(sys.argv[1:])
