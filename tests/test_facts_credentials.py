"""The shared credential classifier: names, literals (key formats, placeholders, labels), random sources."""

from __future__ import annotations

import libcst
import pytest

from authlint.context import FileContext
from authlint.engine import imported_modules
from authlint.facts import credentials as c
from authlint.walk import Dispatch, walk


@pytest.mark.parametrize(
    "name, normalized",
    [
        ("hashedPassword", "hashed_password"),
        ("HASHED_PASSWORD", "hashed_password"),
        ("Hashed-Password", "hashed_password"),
        ("X-Api-Key", "x_api_key"),
        ("APIKey", "api_key"),
        ("NextToken", "next_token"),
        ("__secret__", "secret"),
    ],
)
def test_names_are_normalized_to_snake_case(name, normalized) -> None:
    assert c.normalize_name(name) == normalized


@pytest.mark.parametrize(
    "name, kind",
    [
        ("password", c.PASSWORD),
        ("user_password", c.PASSWORD),
        ("newPassword", c.PASSWORD),
        ("DB_PASS", c.PASSWORD),
        ("passphrase", c.PASSWORD),
        ("hashedPassword", c.PASSWORD_HASH),
        ("user_password_hash", c.PASSWORD_HASH),
        ("secret", c.SECRET),
        ("totp_secret", c.SECRET),
        ("SECRET_KEY", c.SECRET_KEY),
        ("aws_secret_access_key", c.SECRET_KEY),
        ("client_secret", c.CLIENT_SECRET),
        ("clientSecret", c.CLIENT_SECRET),
        ("stripe_api_key", c.API_KEY),
        ("X-Api-Key", c.API_KEY),
        ("apikey", c.API_KEY),
        ("api_key_2", c.API_KEY),
        ("private_key", c.PRIVATE_KEY),
        ("access_token", c.TOKEN),
        ("reset_token", c.TOKEN),
        ("reset_password_token", c.TOKEN),
        ("HTTP_AUTHORIZATION", c.TOKEN),
        ("X-Hub-Signature-256", c.SIGNATURE),
        ("Stripe-Signature", c.SIGNATURE),
        ("expected_sig", c.SIGNATURE),
        ("hmac_digest", c.HMAC_DIGEST),
        ("otp", c.ONE_TIME_CODE),
        ("reset_code", c.ONE_TIME_CODE),
        ("verification_code", c.ONE_TIME_CODE),
        ("session_id", c.SESSION_ID),
        ("sessionid", c.SESSION_ID),
        ("password_salt", c.SALT),
    ],
)
def test_credential_names_are_classified(name, kind) -> None:
    assert c.credential_kind(name) == kind


@pytest.mark.parametrize(
    "name",
    [
        # names that start with a term but name something else
        "token_type", "token_url", "password_url", "pwd_len", "api_key_id", "password_reset_required",
        "passwordResetRequired", "password_changed_at", "secret_santa", "token_expiry",
        # flags, counters and actions
        "is_secret", "has_password", "must_change_password", "max_tokens", "num_tokens", "min_password",
        "reset_password", "change_password", "check_password", "verify_signature",
        # pagination cursors and tokenizer symbols
        "NextToken", "next_token", "nextPageToken", "continuation_token", "page_token", "eos_token",
        "pad_token", "identity_token",
        # too short or too general alone
        "sig", "key", "code", "hash", "digest", "pass", "first_pass", "id", "",
    ],
)  # fmt: skip
def test_look_alikes_are_not_credentials(name) -> None:
    assert c.credential_kind(name) is None


def test_secret_kind_keeps_only_secrets_a_system_keeps() -> None:
    assert c.secret_kind("client_secret") == c.CLIENT_SECRET
    assert c.secret_kind("api_key") == c.API_KEY
    assert c.secret_kind("access_token") is None
    assert c.secret_kind("otp") is None
    assert c.secret_kind(None) is None


def test_term_kind_works_with_any_table() -> None:
    cards = {"card_number": "card numbers", "ssn": "ssns"}
    assert c.term_kind("userCardNumber", cards) == "card numbers"
    assert c.term_kind("has_ssn", cards) is None
    assert c.term_kind("ssn_last4", cards) is None


@pytest.mark.parametrize(
    "name, kind",
    [("API_KEYS", c.API_KEY), ("valid_tokens", c.TOKEN), ("passwords", c.PASSWORD), ("access", None),
     ("max_tokens", None), ("api_key", None), (None, None)],
)  # fmt: skip
def test_collections_are_classified_by_their_singular(name, kind) -> None:
    assert c.collection_kind(name) == kind


def expression(code: str) -> libcst.BaseExpression:
    return libcst.parse_expression(code)


@pytest.mark.parametrize(
    "code, name",
    [
        ("password", "password"),
        ("user.password", "password"),
        ('form["password"]', "password"),
        ('request.headers.get("X-Api-Key")', "X-Api-Key"),
        ('os.environ.get("API_KEY", "")', "API_KEY"),
        ("form.password.data", "password"),
        ("password.encode()", "password"),
        ("request.json['token'].strip()", "token"),
        ("await session.token", "token"),
        ("user.data", "data"),
        ("f(password)", None),
        ("items[0]", None),
    ],
)
def test_value_names(code, name) -> None:
    assert c.value_name(expression(code)) == name


def test_target_names() -> None:
    assert c.target_name(expression("SECRET_KEY")) == "SECRET_KEY"
    assert c.target_name(expression("app.secret_key")) == "secret_key"
    assert c.target_name(expression('app.config["SECRET_KEY"]')) == "SECRET_KEY"
    assert c.target_name(expression("a[b]")) is None


@pytest.mark.parametrize(
    "value, label",
    [
        ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "a Stripe live secret key"),
        ("ghp_" + "R4nd0m" * 6, "a GitHub token"),
        ("github_pat_" + "11ABCDEFG0" * 5, "a GitHub fine-grained token"),
        ("AKIAI44QH8DHBQ2ZRV7M", "an AWS access key id"),
        ("xoxb-2048-fixture-slack-token", "a Slack token"),
        ("xoxp-1234567890-abcdef", "a Slack token"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7fixturefixture\n-----END RSA PRIVATE KEY-----",
         "a private key PEM"),
        (b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n", "a private key PEM"),
    ],
)  # fmt: skip
def test_well_known_key_formats(value, label) -> None:
    assert c.key_format(value) == label


@pytest.mark.parametrize(
    "value",
    [
        "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",  # placeholder
        "sk_live_<your-key>",
        "ghp_<token>",
        "AKIAIOSFODNN7EXAMPLE",  # AWS's documentation key
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----",
        "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc",  # a test-mode key
        "just some text",
        42,
        None,
    ],
)
def test_look_alike_key_formats(value) -> None:
    assert c.key_format(value) is None


@pytest.mark.parametrize(
    "value",
    ["", "  ", "<your-key>", "<API_KEY>", "xxx", "XXXXXXXX", "***", "...", "\u2026", "${API_KEY}", "$API_KEY",
     "{{ api_key }}", "{password}", "%(password)s", "%s", "your_api_key_here", "YOUR-SECRET", "put-key-here",
     "placeholder", "REDACTED", "TODO", "None", "null", "test", "dummy", b""],
)  # fmt: skip
def test_placeholders(value) -> None:
    assert c.is_placeholder(value)


@pytest.mark.parametrize("value", ["changeme", "hunter2", "dev-secret", "my-secret-key", "s3cr3t!", b"key", 3])
def test_working_values_are_not_placeholders(value) -> None:
    assert not c.is_placeholder(value)


@pytest.mark.parametrize(
    "value, label",
    [
        ("Bearer", True), ("bearer", True), ("Token", True), ("NextToken", True), ("access_token", True),
        ("clientSecret", True), ("X-API-Key", True), ("passwd", True), ("password", True),
        ("_password_reset_token", True), ("changeme", False), ("super-secret", False), ("jose-secret", False),
        ("hunter2", False), ("Bearer abc123", False), (None, False),
    ],
)  # fmt: skip
def test_labels(value, label) -> None:
    assert c.is_label(value) is label


@pytest.mark.parametrize(
    "text",
    ["API_KEY = x", "apiKey", "ApiKey", "APIKey", "X-Api-Key", "api-key", "apikey", "hashedPassword",
     "db_pass", "DB_PASS", "NextToken", "client_secret"],
)  # fmt: skip
def test_terms_pattern_matches_the_usual_spellings(text) -> None:
    assert c.terms_pattern().search(text)


@pytest.mark.parametrize("text", ["", "x = 1\nif y:\n    pass\n", "import os\nprint(os.getcwd())", "bypass = 1"])
def test_terms_pattern_skips_text_without_credential_words(text) -> None:
    assert c.terms_pattern().search(text) is None


def test_terms_pattern_restricts_to_kinds_and_adds_extras() -> None:
    passwords = c.terms_pattern([c.PASSWORD], extra=["AKIA"])
    assert passwords.search("PASSWORD = 1") and passwords.search("key = 'AKIA...'")
    assert passwords.search("token = 1") is None


@pytest.mark.parametrize(
    "qualified, strength",
    [
        ("random.choice", c.WEAK), ("random.Random().choice", c.WEAK), ("numpy.random.default_rng().integers", c.WEAK),
        ("uuid.uuid1", c.WEAK), ("uuid.uuid5", c.WEAK), ("time.time", c.WEAK), ("datetime.datetime.now", c.WEAK),
        ("hash", c.WEAK), ("random.SystemRandom().choice", c.STRONG), ("secrets.token_urlsafe", c.STRONG),
        ("secrets.SystemRandom().randint", c.STRONG), ("os.urandom", c.STRONG), ("uuid.uuid4", c.STRONG),
        ("django.utils.crypto.get_random_string", c.STRONG), ("json.dumps", None), (None, None),
    ],
)  # fmt: skip
def test_random_sources(qualified, strength) -> None:
    source = c.random_source(qualified)
    assert (source[0] if source else None) == strength
    if strength == c.WEAK:
        assert source[1]  # every weak source says why


def byte_counts(source: str) -> list:
    module = libcst.parse_module(source)
    ctx = FileContext("t.py", module, imported_modules(source))
    seen = []

    class Recorder:
        def visit_Call(self, node):
            qualified = ctx.qualified_name(node.func)
            if qualified in c.BYTE_COUNT_SOURCES:
                seen.append(c.byte_count(ctx, node, qualified))

    walk(module, Dispatch([ctx.tracker, Recorder()]))
    return seen


def test_byte_counts_of_random_sources() -> None:
    source = (
        "import os, secrets\nN = 8\n"
        "secrets.token_hex(8)\nsecrets.token_urlsafe(nbytes=N)\nsecrets.token_bytes()\nos.urandom(size)\n"
    )
    assert byte_counts(source) == [8, 8, None, None]


def test_message_helpers() -> None:
    assert c.singular(c.PASSWORD_HASH) == "password hash"
    assert c.singular(c.API_KEY) == "API key"
    assert c.singular(c.SESSION_ID) == "session id"
    assert c.environment_name("stripe.apiKey") == "STRIPE_API_KEY"


def test_jwt_sensitive_payload_uses_the_shared_classifier() -> None:
    from authlint.rules.jwt_sensitive_payload import sensitive_kind

    assert sensitive_kind("hashedPassword") == c.PASSWORD_HASH
    assert sensitive_kind("stripe_api_key") == c.API_KEY
    assert sensitive_kind("socialSecurityNumber") == "social security numbers"
    assert sensitive_kind("cvv") == "card security codes"
    for name in ("token_type", "at_hash", "must_change_password", "has_ssn", "secret_santa", "access_token"):
        assert sensitive_kind(name) is None, name
