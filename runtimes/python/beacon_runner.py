"""Beacon worker runner for Python 3 algorithms.

Started as `python3 beacon_runner.py <entry file> <max reply bytes>` in the algorithm's working
directory. Protocol (see src/execution/worker-process.ts):
  stdin  one JSON request per line: {"id", "content_type": "text"|"json"|"binary", "data"}
  fd 3   one JSON reply per line: {"ready": true} once loaded, or {"ready": false, "error"};
         then per request {"id", "content_type", "result"} or {"id", "error": {...}}
  fd 1/2 belong to the algorithm; after each call the runner writes an end marker on both so the
         service can tell which output belongs to which call.
"""
import base64
import importlib
import types
import json
import os
import sys
import traceback

ERROR_TYPES = {
    'AlgorithmError', 'InputError', 'UnsupportedError', 'InitializationError', 'OutOfMemoryError',
    'LanguageError', 'TooLargeError', 'ParsingError', 'EntityNotFoundError', 'ThirdPartyCredentialError',
}


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class Channel:
    """The protocol file descriptors, moved away from 0 and 3 so algorithm code cannot read the
    requests by accident, and marked non-inheritable so its subprocesses do not get them."""

    def __init__(self):
        self.requests = os.fdopen(os.dup(0), 'rb')
        self.replies = os.dup(3)
        os.close(3)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)

    def send(self, obj):
        write_all(self.replies, json.dumps(obj, ensure_ascii=False, allow_nan=False).encode('utf-8') + b'\n')

    def send_line(self, line):
        write_all(self.replies, line + b'\n')


def is_internal(filename):
    return filename == __file__ or filename.startswith('<frozen importlib') or '/importlib/' in filename


def error_body(exc, error_type, message=None):
    # The traceback without the runner's and importlib's frames: only the algorithm's own.
    report = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    report.stack = traceback.StackSummary.from_list([f for f in report.stack if not is_internal(f.filename)])
    custom = getattr(exc, 'error_type', None)
    if error_type == 'AlgorithmError' and custom in ERROR_TYPES:
        error_type = custom
    return {
        'message': message or str(exc) or type(exc).__name__,
        'stacktrace': ''.join(report.format()),
        'error_type': error_type,
    }


def load(entry):
    cwd = os.getcwd()
    # Both `from src.helper import x` (Algorithmia's layout) and `import helper` work.
    sys.path[0:0] = [cwd, os.path.join(cwd, 'src')]
    module_name = entry[:-3].replace('/', '.')
    module = importlib.import_module(module_name)
    apply = getattr(module, 'apply', None)
    if not callable(apply):
        raise AttributeError('%s does not define apply(input)' % entry)
    return apply


def decode_input(req):
    kind = req.get('content_type')
    if kind == 'binary':
        return base64.b64decode(req['data'])
    if kind in ('text', 'json'):
        return req['data']
    raise ValueError('unsupported content_type %r' % kind)


def too_large(call_id, size, max_bytes):
    return None, {'id': call_id, 'error': {
        'message': 'the result is %d bytes, more than the limit of %d bytes' % (size, max_bytes),
        'stacktrace': '', 'error_type': 'TooLargeError'}}


def encode_result(call_id, result, max_bytes):
    if isinstance(result, (bytes, bytearray, memoryview)):
        # Built by hand: base64 needs no escaping, and json.dumps of a large string is slow.
        line = b''.join([b'{"id":', json.dumps(call_id).encode('utf-8'), b',"content_type":"binary","result":"',
                         base64.b64encode(result), b'"}'])
        return (line, None) if len(line) <= max_bytes else too_large(call_id, len(line), max_bytes)
    if isinstance(result, str):
        reply = {'id': call_id, 'content_type': 'text', 'result': result}
    else:
        reply = {'id': call_id, 'content_type': 'json', 'result': result}
    try:
        line = json.dumps(reply, ensure_ascii=False, allow_nan=False).encode('utf-8')
    except (TypeError, ValueError, RecursionError) as e:
        return None, {'id': call_id, 'error': {
            'message': 'apply() returned a value that cannot be serialised to JSON (%s): %s' % (type(result).__name__, e),
            'stacktrace': '', 'error_type': 'AlgorithmError'}}
    if len(line) > max_bytes:
        return too_large(call_id, len(line), max_bytes)
    return line, None


def run_call(apply, req, max_bytes):
    call_id = req.get('id')
    try:
        result = apply(decode_input(req))
        if isinstance(result, types.CoroutineType):  # `async def apply(input)`
            import asyncio  # only when needed: it costs start-up time
            result = asyncio.run(result)
    except SystemExit as e:
        return None, {'id': call_id, 'error': error_body(e, 'SystemExit', 'algorithm called sys.exit(%r)' % (e.code,))}
    except MemoryError as e:
        return None, {'id': call_id, 'error': error_body(e, 'OutOfMemoryError', 'algorithm ran out of memory')}
    except BaseException as e:  # noqa: B036 -- every fault of the algorithm becomes an error reply
        return None, {'id': call_id, 'error': error_body(e, 'AlgorithmError')}
    return encode_result(call_id, result, max_bytes)


def end_output(call_id):
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:
            pass
    marker = ('\x1ebeacon-end:%s\x1e' % call_id).encode('utf-8')
    for fd in (1, 2):
        try:
            write_all(fd, marker)
        except OSError:
            pass


def main():
    entry, max_bytes = sys.argv[1], int(sys.argv[2])
    channel = Channel()
    try:
        apply = load(entry)
    except BaseException as e:  # noqa: B036
        channel.send({'ready': False, 'error': error_body(e, 'LoadingError')})
        return 1
    channel.send({'ready': True})
    for raw in channel.requests:
        req = json.loads(raw)
        if req.get('algorithmia_api'):  # this call's callback address (its token is per call)
            os.environ['ALGORITHMIA_API'] = req['algorithmia_api']
        line, error = run_call(apply, req, max_bytes)
        end_output(req.get('id'))
        if line is not None:
            channel.send_line(line)
        else:
            channel.send(error)
    return 0


if __name__ == '__main__':
    sys.exit(main())
