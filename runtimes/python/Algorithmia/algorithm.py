"""`client.algo('owner/name[/version]').pipe(input)`: the official client's algorithm-call surface
(algorithmia 2.0.5 Algorithmia/algorithm.py, algo_response.py, async_response.py), written again
on the standard library. Inside a worker, ALGORITHMIA_API carries the call's token, so no key is
needed: the nested call runs for whoever called this algorithm."""
import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request

from .errors import AlgorithmException, ApiError, ApiInternalError

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class OutputType:
    default = 'default'
    raw = 'raw'
    void = 'void'


class Metadata:
    def __init__(self, metadata):
        self.content_type = metadata['content_type']
        self.duration = metadata['duration']
        self.stdout = metadata.get('stdout')
        self.full_metadata = metadata

    def __repr__(self):
        return 'Metadata(content_type=%r, duration=%r, stdout=%r)' % (self.content_type, self.duration, self.stdout)


class AlgoResponse:
    def __init__(self, result, metadata):
        self.result = result
        self.metadata = metadata

    def __repr__(self):
        return 'AlgoResponse(result=%r, metadata=%r)' % (self.result, self.metadata)


class AsyncResponse:
    def __init__(self, response):
        self.async_protocol = response['async']
        self.request_id = response['request_id']


def _encode(data):
    if isinstance(data, str):
        return data.encode('utf-8'), 'text/plain'
    if isinstance(data, (bytes, bytearray)):
        return bytes(data), 'application/octet-stream'
    return json.dumps(data).encode('utf-8'), 'application/json'


def _raise_from(body, status):
    error = body.get('error') if isinstance(body, dict) else None
    if isinstance(error, dict):
        if status < 300 or 'error_type' in error:
            raise AlgorithmException(error.get('message'), error.get('stack_trace') or error.get('stacktrace'), error.get('error_type'))
        message = error.get('message') or 'HTTP %s' % status
    else:
        message = error if isinstance(error, str) else 'HTTP %s' % status
    raise (ApiInternalError if status >= 500 else ApiError)(message)


class Algorithm:
    def __init__(self, client, algo_ref):
        path = algo_ref[len('algo://'):] if algo_ref.startswith('algo://') else algo_ref
        self.client = client
        self.path = path.strip('/')
        self.query_parameters = {}
        self.output_type = OutputType.default

    def set_options(self, timeout=300, stdout=False, output=OutputType.default, **query_parameters):
        self.query_parameters = {'timeout': timeout, 'stdout': stdout}
        self.output_type = output
        self.query_parameters.update(query_parameters)
        return self

    def pipe(self, input1):
        params = dict(self.query_parameters)
        if self.output_type in (OutputType.raw, OutputType.void):
            params['output'] = self.output_type
        url = '%s/v1/algo/%s' % (self.client.api_address.rstrip('/'), self.path)
        if params:
            url += '?' + urllib.parse.urlencode(params)
        data, content_type = _encode(input1)
        headers = {'Content-Type': content_type}
        if self.client.api_key:
            headers['Authorization'] = 'Simple ' + self.client.api_key
        request = urllib.request.Request(url, data=data, method='POST', headers=headers)
        timeout = float(self.query_parameters.get('timeout', 300)) + 30
        try:
            with _opener.open(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        if self.output_type == OutputType.raw and status < 300:
            return raw.decode('utf-8')
        try:
            body = json.loads(raw.decode('utf-8'))
        except ValueError:
            raise (ApiInternalError if status >= 500 else ApiError)('HTTP %s: %s' % (status, raw[:200])) from None
        if status >= 300 or 'error' in body:
            _raise_from(body, status)
        if 'async' in body:
            return AsyncResponse(body)
        metadata = Metadata(body['metadata'])
        result = body.get('result')
        if metadata.content_type == 'binary':
            result = base64.b64decode(result)
        elif metadata.content_type == 'void':
            result = None
        return AlgoResponse(result, metadata)


def default_api_address():
    return os.getenv('ALGORITHMIA_API') or 'https://api.algorithmia.com'
