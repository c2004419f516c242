"""A small stand-in for the official `Algorithmia` Python client inside Beacon workers.

It covers calling other algorithms (`Algorithmia.client().algo('owner/name').pipe(x)`, returning
`.result` and `.metadata`; `set_options(timeout=, stdout=, output=)`; the official exception
classes in `Algorithmia.errors`; see algorithm.py) and Insights: `Algorithmia.client().report_insights({...})` sends the request algorithmia 2.0.5
sends (Algorithmia/insights.py): a POST to $ALGORITHMIA_API/v1/insights (default
http://localhost:9000) with Content-Type application/json, no Authorization header, and the body
json.dumps([{"insight_key": k, "insight_value": v}, ...]). Unlike the official client, which ignores
the reply, it raises InsightsError carrying the server's message when the report is refused, so an
algorithm can see why. Standard library only: workers get no third-party packages.
"""
import json
import os
import urllib.error
import urllib.request

from . import errors
from .algorithm import AlgoResponse, Algorithm, AsyncResponse, OutputType, default_api_address
from .errors import AlgorithmException, ApiError, ApiInternalError

__all__ = ['client', 'Client', 'InsightsError', 'report_insights', 'algo', 'errors', 'OutputType',
           'AlgorithmException', 'ApiError', 'ApiInternalError', 'AlgoResponse', 'AsyncResponse']

apiKey = None
apiAddress = None

# No proxies: the endpoint is the Beacon service itself, whatever the environment says.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class InsightsError(Exception):
    """The insights endpoint refused a report (bad metric name or value, limit exceeded...)."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def _insights_url():
    return (os.getenv('ALGORITHMIA_API') or 'http://localhost:9000') + '/v1/insights'


def _server_message(raw, status):
    try:
        body = json.loads(raw.decode('utf-8'))
        error = body.get('error') if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get('message'):
            return str(error['message'])
        if isinstance(error, str):
            return error
    except (ValueError, UnicodeDecodeError):
        pass
    return 'insights report refused with HTTP %s' % status


def report_insights(insights):
    """POSTs one report; `insights` is a mapping of metric name to a number or a boolean."""
    body = json.dumps([{'insight_key': key, 'insight_value': insights[key]} for key in insights])
    request = urllib.request.Request(
        _insights_url(), data=body.encode('utf-8'), method='POST',
        headers={'Content-Type': 'application/json'})
    try:
        with _opener.open(request, timeout=30) as response:
            response.read()
    except urllib.error.HTTPError as e:
        raise InsightsError(_server_message(e.read(), e.code), e.code) from None


class Client:
    def __init__(self, api_key=None, api_address=None, ca_cert=None, bearer_token=None):
        # Kept for signature compatibility; like the official client, report_insights ignores
        # api_address and always uses ALGORITHMIA_API.
        self.api_key = api_key or apiKey or os.getenv('ALGORITHMIA_API_KEY')
        self._api_address = api_address or apiAddress

    @property
    def api_address(self):
        # Read at each request unless given: inside a worker ALGORITHMIA_API carries the running
        # call's token (a new one per call), so a client made at import time keeps working.
        return self._api_address or default_api_address()

    def algo(self, algo_ref):
        return Algorithm(self, algo_ref)

    def report_insights(self, insights):
        return report_insights(insights)


def client(api_key=None, api_address=None, ca_cert=None, bearer_token=None):
    return Client(api_key, api_address, ca_cert, bearer_token)


def algo(algo_ref):
    """Module-level shortcut of the official client: Algorithmia.algo('o/n').pipe(x)."""
    return client().algo(algo_ref)
