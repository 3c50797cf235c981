"""HTTP rule matching (ref §2.7): full-match RE2, headers, headerMatches, OR/AND."""

import pytest

from cmesh.l7 import HTTPRequest, HTTPRule, match_http

GUIDE = (
    HTTPRule(method="GET", path="/api/v1/.*"),
    HTTPRule(method="POST", path="/api/v1/orders", headers=("Content-Type: application/json",)),
)


@pytest.mark.parametrize(
    ("method", "path", "headers", "allowed"),
    [
        ("GET", "/api/v1/orders", (), True),
        ("GET", "/api/v2/orders", (), False),
        ("POST", "/api/v1/orders", (("Content-Type", "application/json"),), True),
        ("POST", "/api/v1/orders", (("Content-Type", "text/plain"),), False),
        ("POST", "/api/v1/orders", (), False),
        ("POST", "/api/v1/orders/1", (("Content-Type", "application/json"),), False),
        ("DELETE", "/api/v1/orders", (), False),
        ("get", "/api/v1/x", (), False),  # method regex is case-sensitive like Envoy's
    ],
)
def test_guides_api_http_policy_ref_2_7(method, path, headers, allowed):
    assert match_http(GUIDE, HTTPRequest(method, path, "api", headers)).allowed is allowed


def test_path_is_a_full_match_ref_2_7():
    rules = (HTTPRule(path="/public"),)
    assert match_http(rules, HTTPRequest("GET", "/public")).allowed
    assert not match_http(rules, HTTPRequest("GET", "/public/x")).allowed
    assert not match_http(rules, HTTPRequest("GET", "/public?x=1")).allowed  # :path has the query


def test_method_alternation_and_host():
    rules = (HTTPRule(method="GET|HEAD", host="api\\.example\\.com"),)
    assert match_http(rules, HTTPRequest("HEAD", "/", "api.example.com")).allowed
    assert not match_http(rules, HTTPRequest("HEAD", "/", "apixexample.com")).allowed


def test_empty_rule_is_the_l7_wildcard_ref_1_10():
    assert match_http((HTTPRule(),), HTTPRequest("PATCH", "/anything")).allowed


def test_header_presence_and_value_forms_ref_2_7():
    assert match_http(
        (HTTPRule(headers=("X-Token",)),), HTTPRequest("GET", "/", headers=(("x-token", ""),))
    ).allowed
    assert match_http(
        (HTTPRule(headers=("X-Mode prod",)),),
        HTTPRequest("GET", "/", headers=(("X-Mode", "prod"),)),
    ).allowed
    assert not match_http(
        (HTTPRule(headers=("X-Mode prod",)),), HTTPRequest("GET", "/", headers=(("X-Mode", "dev"),))
    ).allowed


@pytest.mark.parametrize(
    ("mismatch", "allowed", "forwarded"),
    [
        ("", False, None),
        ("LOG", True, (("X-Env", "dev"),)),
        ("REPLACE", True, (("X-Env", "prod"),)),
        ("ADD", True, (("X-Env", "dev"), ("X-Env", "prod"))),
        ("DELETE", True, ()),
    ],
)
def test_header_matches_mismatch_actions_ref_2_7(mismatch, allowed, forwarded):
    rules = (HTTPRule(header_matches=(("X-Env", "prod", "", mismatch),)),)
    m = match_http(rules, HTTPRequest("GET", "/", headers=(("X-Env", "dev"),)))
    assert m.allowed is allowed
    if allowed:
        assert m.request is not None and m.request.headers == forwarded


def test_missing_secret_never_matches_ref_2_7():
    rules = (HTTPRule(header_matches=(("Authorization", "", "default/token", ""),)),)
    req = HTTPRequest("GET", "/", headers=(("Authorization", "Bearer s3cret"),))
    assert not match_http(rules, req).allowed
    assert match_http(
        rules, req, lambda ref: "Bearer s3cret" if ref == "default/token" else None
    ).allowed


def test_pathological_regex_is_linear_time():
    rules = (HTTPRule(path="(a+)+$"),)
    assert not match_http(rules, HTTPRequest("GET", "a" * 5000 + "!")).allowed


def test_an_invalid_regex_is_reported_once_in_words_ref_2_7(capfd: pytest.CaptureFixture[str]):
    """RE2 would log each syntax error to stderr itself and google-re2 carries the message as
    bytes; the one error cmesh reports reads as text and nothing else reaches stderr."""
    from cmesh.l7.regex import compile_re2

    compiled, error = compile_re2("/api/(v1")
    assert compiled is None and error == "missing ): /api/(v1"
    assert capfd.readouterr().err == ""
