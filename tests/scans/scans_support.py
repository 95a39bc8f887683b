"""A planted secrets corpus, generated at test time so no live-looking key is ever committed.

Every planted credential is random text in the right format (real key pairs for the PEM and
service-account cases); every clean look-alike is something a scanner must not flag:
placeholders, environment lookups, hashes, UUIDs, public keys and test fixtures.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from bot.checks import load_policy
from bot.checks.base import CheckContext, Finding
from bot.checks.secrets import SecretsChecker, SecretsOptions
from bot.tree import File, Tree

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"


@dataclass
class Corpus:
    """Planted files (path -> expected rule ids), clean files, and every planted raw value."""

    tree: Tree = field(default_factory=dict)
    planted: dict[str, set[str]] = field(default_factory=dict)
    clean: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)

    def plant(self, path: str, text: str, rules: set[str], *values: str) -> None:
        assert path not in self.tree, path
        self.tree[path] = File(text.encode())
        self.planted[path] = rules
        self.values.extend(values)

    def add_clean(self, path: str, text: str) -> None:
        assert path not in self.tree, path
        self.tree[path] = File(text.encode())
        self.clean.append(path)


def scan(tree: Mapping[str, File], settings: Mapping[str, object] | None = None) -> list[Finding]:
    """Run the secrets checker over every file of ``tree`` the way the runner does."""
    checker = SecretsChecker()
    # The options go through the policy, as the runner's do: a bad one fails at load.
    policy = load_policy({"checkers": {"secrets": {"options": dict(settings or {})}}}, None)
    options = policy.options_for("secrets", SecretsOptions)
    ctx = CheckContext(tree=tree, paths=sorted(tree), options=options)
    result = checker.check_files(sorted(tree), ctx)
    return [f for path in sorted(result) for f in result[path]]


def build_corpus(seed: int = 20261123) -> Corpus:
    rnd = random.Random(seed)

    def r(chars: str, n: int) -> str:
        return "".join(rnd.choice(chars) for _ in range(n))

    c = Corpus()

    # ---- cloud keys
    akia = "AKIA" + r(string.ascii_uppercase + "234567", 16)
    c.plant(".env", f"AWS_ACCESS_KEY_ID={akia}\nREGION=eu-west-1\n", {"aws-access-key-id"}, akia)
    asia = "ASIA" + r(string.ascii_uppercase + "234567", 16)
    c.plant("deploy/aws.yml", f"credentials:\n  key_id: {asia}\n", {"aws-access-key-id"}, asia)
    secret = r(B64, 40)
    c.plant(
        "home/.aws/credentials",
        f"[default]\naws_secret_access_key = {secret}\n",
        {"aws-secret-access-key"},
        secret,
    )
    pair_id, pair_secret = "AKIA" + r(string.ascii_uppercase + "234567", 16), r(B64, 40)
    pair_secret = "Ab1/" + pair_secret[4:]  # all character classes, as real secret keys have
    c.plant(
        "scripts/upload.py",
        f'CREDS = ("{pair_id}",\n         "{pair_secret}")\n',
        {"aws-access-key-id", "aws-secret-access-key"},
        pair_id,
        pair_secret,
    )
    aiza = "AIza" + r(B64URL, 35)
    c.plant(
        "web/maps.js", f'const MAPS_KEY = "{aiza}";\nexport default MAPS_KEY;\n', {"gcp-api-key"}
    )
    c.values.append(aiza)
    sa_key = ec.generate_private_key(ec.SECP256R1())
    pem = sa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    sa = {
        "type": "service_account",
        "project_id": "orders-prod",
        "private_key_id": r(HEX, 40),
        "private_key": pem,
        "client_email": "orders@orders-prod.iam.gserviceaccount.com",
    }
    c.plant(
        "secrets/sa.json",
        json.dumps(sa, indent=2),
        {"gcp-service-account-key"},
        pem.splitlines()[1],
    )
    gocspx = "GOCSPX-" + r(B64URL, 28)
    c.plant(
        "config/oauth.yml", f"google:\n  client_secret: {gocspx}\n", {"gcp-oauth-client-secret"}
    )
    c.values.append(gocspx)
    account_key = r(B64, 86) + "=="
    c.plant(
        "config/storage.ini",
        "[blob]\nconnection = DefaultEndpointsProtocol=https;AccountName=ordersprod;"
        f"AccountKey={account_key};EndpointSuffix=core.windows.net\n",
        {"azure-storage-account-key"},
        account_key,
    )
    sig = r(ALNUM, 43) + "%3D"
    c.plant(
        "docs/download.md",
        "Get it from https://ordersprod.blob.core.windows.net/exports/a.csv"
        f"?sv=2022-11-02&ss=b&srt=o&sp=r&se=2027-01-01T00:00:00Z&sig={sig}\n",
        {"azure-sas-token"},
        sig,
    )
    sb_key = r(B64, 43) + "="
    c.plant(
        "config/bus.env",
        "SERVICEBUS=Endpoint=sb://orders.servicebus.windows.net/;"
        f"SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={sb_key}\n",
        {"azure-shared-access-key"},
        sb_key,
    )

    # ---- forges and chat
    for i, prefix in enumerate(("ghp", "gho", "ghs", "ghu", "ghr")):
        token = f"{prefix}_" + r(ALNUM, 36)
        c.plant(f"ci/gh_{i}.sh", f'curl -H "X-Token: {token}" api.github.com\n', {"github-token"})
        c.values.append(token)
    pat = "github_pat_" + r(ALNUM, 22) + "_" + r(ALNUM, 59)
    c.plant("ci/pat.txt", f"token {pat}\n", {"github-fine-grained-pat"}, pat)
    glpat = "glpat-" + r(B64URL, 20)
    c.plant(".gitlab/token.env", f"GL={glpat}\n", {"gitlab-token"}, glpat)
    for kind in ("b", "p"):
        token = (
            f"xox{kind}-" + r(string.digits, 12) + "-" + r(string.digits, 12) + "-" + r(ALNUM, 24)
        )
        c.plant(f"bots/slack_{kind}.py", f'SLACK = "{token}"\n', {"slack-token"}, token)
    xapp = "xapp-1-A" + r(string.ascii_uppercase + string.digits, 10) + "-" + r(string.digits, 13)
    xapp += "-" + r(HEX, 64)
    c.plant("bots/socket.yaml", f"app_level: {xapp}\n", {"slack-app-token"}, xapp)
    hook_tail = "T" + r("ABCDEFGHJKLMNPQRSTUVWXYZ2345678", 10) + "/B" + r(ALNUM.upper(), 10)
    hook_tail += "/" + r(ALNUM, 24)
    hook = f"https://hooks.slack.com/services/{hook_tail}"
    c.plant("alerts/notify.yml", f"webhook: {hook}\n", {"slack-webhook"}, hook_tail)
    discord = f"https://discord.com/api/webhooks/{r(string.digits, 18)}/{r(B64URL, 68)}"
    c.plant("alerts/discord.txt", discord + "\n", {"discord-webhook"}, discord)
    tg = r(string.digits, 10) + ":AA" + r(B64URL, 33)
    c.plant("bots/telegram.env", f"TG_BOT={tg}\n", {"telegram-bot-token"}, tg)

    # ---- payments, mail, registries, AI
    for kind, rule in (("sk_live_", "stripe-live-key"), ("rk_live_", "stripe-live-key")):
        key = kind + r(ALNUM, 24)
        c.plant(f"billing/{kind.strip('_')}.py", f'stripe.api_key = "{key}"\n', {rule}, key)
    sk_test = "sk_test_" + r(ALNUM, 24)
    c.plant("billing/dev.env", f"STRIPE={sk_test}\n", {"stripe-test-key"}, sk_test)
    whsec = "whsec_" + r(ALNUM, 32)
    c.plant("billing/hooks.env", f"STRIPE_WEBHOOK={whsec}\n", {"stripe-webhook-secret"}, whsec)
    sg = "SG." + r(B64URL, 22) + "." + r(B64URL, 43)
    c.plant("mail/send.py", f'client = Sendgrid("{sg}")\n', {"sendgrid-api-key"}, sg)
    mc = r(HEX, 32) + "-us14"
    c.plant("mail/mailchimp.cfg", f"key {mc}\n", {"mailchimp-api-key"}, mc)
    twilio_sk = "SK" + r(HEX, 32)
    c.plant("sms/keys.txt", f"{twilio_sk}\n", {"twilio-api-key"}, twilio_sk)
    twilio_token = r(HEX, 32)
    c.plant("sms/settings.py", f'TWILIO_AUTH_TOKEN = "{twilio_token}"\n', {"twilio-auth-token"})
    c.values.append(twilio_token)
    npm = "npm_" + r(ALNUM, 36)
    c.plant("web/publish.sh", f"NPM_TOKEN={npm} npm publish\n", {"npm-token"}, npm)
    npmrc_token = str(uuid.UUID(int=rnd.getrandbits(128)))
    c.plant(
        "web/.npmrc",
        f"//registry.npmjs.org/:_authToken={npmrc_token}\n",
        {"npmrc-auth-token"},
        npmrc_token,
    )
    pypi = "pypi-AgEIcHlwaS5vcmc" + r(B64URL, 70)
    c.plant(".pypirc", f"[pypi]\nusername = __token__\npassword = {pypi}\n", {"pypi-token"}, pypi)
    openai = "sk-proj-" + r(B64URL, 20) + "T3BlbkFJ" + r(B64URL, 20)
    c.plant("ai/openai.env", f"OPENAI={openai}\n", {"openai-api-key"}, openai)
    anthropic = "sk-ant-api03-" + r(B64URL, 93) + "AA"
    c.plant("ai/claude.env", f"CLAUDE={anthropic}\n", {"anthropic-api-key"}, anthropic)
    hf = "hf_" + r(string.ascii_letters, 34)
    c.plant("ai/hf.sh", f"huggingface-cli login --token {hf}\n", {"huggingface-token"}, hf)
    shpat = "shpat_" + r(HEX, 32)
    c.plant("shop/admin.env", f"SHOP={shpat}\n", {"shopify-token"}, shpat)
    do = "dop_v1_" + r(HEX, 64)
    c.plant("infra/do.tfvars", f'do_pat = "{do}"\n', {"digitalocean-token"}, do)

    # ---- infrastructure and SaaS tokens with published prefixes
    b32 = string.ascii_uppercase + string.digits
    more = {
        "keys/age.txt": (
            "# created: 2024\n{v}\n",
            "AGE-SECRET-KEY-1" + r(b32, 58),
            "age-secret-key",
        ),
        "infra/vault.env": ("VAULT_TOKEN={v}\n", "hvs." + r(B64URL, 90), "vault-token"),
        "infra/tfc.hcl": (
            'credentials "app.terraform.io" {{ token = "{v}" }}\n',
            r(ALNUM, 14) + ".atlasv1." + r(B64URL, 67),
            "terraform-cloud-token",
        ),
        "data/databricks.cfg": (
            "[DEFAULT]\nhost = x\nkey {v}\n",
            "dapi" + r(HEX, 32),
            "databricks-token",
        ),
        "infra/doppler.sh": (
            "doppler run --token {v}\n",
            "dp.st.prd." + r(ALNUM, 40),
            "doppler-token",
        ),
        "tools/linear.env": ("LINEAR={v}\n", "lin_api_" + r(ALNUM, 40), "linear-api-key"),
        "tools/postman.env": (
            "POSTMAN={v}\n",
            "PMAK-" + r(HEX, 24) + "-" + r(HEX, 34),
            "postman-api-key",
        ),
        "ops/grafana.env": (
            "GRAFANA={v}\n",
            "glsa_" + r(ALNUM, 32) + "_" + r(HEX, 8),
            "grafana-token",
        ),
        "ops/newrelic.env": ("NEW_RELIC={v}\n", "NRAK-" + r(b32, 27), "new-relic-key"),
    }
    for path, (template, value, rule) in more.items():
        c.plant(path, template.format(v=value), {rule}, value)
    putty_body = "\n".join(r(B64, 64) for _ in range(14))
    c.plant(
        "keys/deploy.ppk",
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy\n"
        f"Public-Lines: 2\n{r(B64, 64)}\n{r(B64, 20)}\nPrivate-Lines: 14\n{putty_body}\n"
        f"Private-MAC: {r(HEX, 64)}\n",
        {"putty-private-key"},
        putty_body.splitlines()[0],
    )

    # ---- private keys and tokens
    rsa_pem = (
        ec.generate_private_key(ec.SECP384R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        .decode()
    )
    c.plant("deploy/tls.key", rsa_pem, {"private-key"}, rsa_pem.splitlines()[1])
    ssh = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        .decode()
    )
    c.plant("deploy/id_ed25519", ssh, {"private-key"}, ssh.splitlines()[1])
    escaped = pem.replace("\n", "\\n")
    c.plant("app/keys.py", f'SIGNING_KEY = "{escaped}"\n', {"private-key"})
    token = jwt.encode({"sub": r(ALNUM, 10), "admin": True}, r(ALNUM, 32), algorithm="HS256")
    c.plant("api/session.http", f"Cookie: session={token}\n", {"jwt"}, token)

    # ---- connection strings
    pw = r(ALNUM, 18)
    c.plant(
        "config/db.env",
        f"DATABASE_URL=postgresql://orders:{pw}@orders-db.internal:5432/orders\n",
        {"connection-string-password"},
        pw,
    )
    pw2 = r(ALNUM, 14)
    c.plant(
        "config/mongo.yml",
        f"uri: mongodb+srv://svc:{pw2}@cluster0.ab12c.mongodb.net/app\n",
        {"connection-string-password"},
        pw2,
    )
    pw3 = r(ALNUM, 20)
    c.plant(
        "config/cache.toml",
        f'url = "redis://:{pw3}@cache.prod:6379/0"\n',
        {"connection-string-password"},
        pw3,
    )

    # ---- keyword assignments (no known format)
    generic = {
        "config/app.env": ("DB_PASSWORD={v}\n", r(ALNUM + "!@#%^", 16)),
        "service/settings.py": ('SECRET_KEY = "{v}"\n', r(ALNUM + "-_!", 40)),
        "config/vendor.yml": ("payments:\n  api_key: {v}\n", r(ALNUM, 32)),
        "config/oidc.json": ('{{"client_secret": "{v}", "client_id": "orders"}}\n', r(ALNUM, 28)),
        "config/worker.toml": ('[queue]\nauth_token = "{v}"\n', r(ALNUM, 24)),
        "compose.yml": (
            "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: {v}\n",
            r(ALNUM, 20),
        ),
        "src/client.ts": ('const client = new Api({{ apiKey: "{v}" }});\n', r(ALNUM, 30)),
        "deploy/values.yaml": ("redis:\n  auth:\n    password: '{v}'\n", r(ALNUM, 12)),
    }
    for path, (template, value) in generic.items():
        c.plant(path, template.format(v=value), {"generic-secret-assignment"}, value)
    # ---- the same secrets in other clothes
    maven = r(ALNUM, 22)
    c.plant(
        "ci/settings.xml",
        f"<settings><servers><server>\n  <id>nexus</id>\n  <password>{maven}</password>\n"
        "</server></servers></settings>\n",
        {"generic-secret-assignment"},
        maven,
    )
    dotnet = r(ALNUM + "+/", 32)
    c.plant(
        "web/web.config",
        f'<appSettings>\n  <add key="PaymentsApiKey" value="{dotnet}" />\n</appSettings>\n',
        {"generic-secret-assignment"},
        dotnet,
    )
    block_key = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    indented = "".join(f"    {line}\n" for line in block_key.splitlines())
    c.plant("deploy/tls.yaml", f"tls:\n  key: |\n{indented}", {"private-key"})
    c.values.append(block_key.splitlines()[1])
    crlf = r(ALNUM, 24)
    c.plant(
        "config/windows.env",
        f"HOST=db\r\nAPI_SECRET={crlf}\r\nPORT=5432\r\n",
        {"generic-secret-assignment"},
        crlf,
    )
    minified_token = "ghp_" + r(ALNUM, 36)
    c.plant(
        "web/bundle.min.js",
        "!function(e){var t={};" * 40 + f'e.h={{Authorization:"token {minified_token}"}}' + "}();",
        {"github-token"},
        minified_token,
    )
    docker = r(ALNUM, 18)
    c.plant(
        "Dockerfile",
        f"FROM python:3.12-slim\nENV APP_ENV=prod \\\n    SMTP_PASSWORD={docker}\n",
        {"generic-secret-assignment"},
        docker,
    )
    props = r(ALNUM + "!#%", 16)
    c.plant(
        "src/main/resources/application.properties",
        f"spring.datasource.url=jdbc:postgresql://db/orders\nspring.datasource.password={props}\n",
        {"generic-secret-assignment"},
        props,
    )

    k8s = base64.b64encode(r(ALNUM, 18).encode()).decode()
    c.plant(
        "deploy/secret.yaml",
        f"apiVersion: v1\nkind: Secret\ndata:\n  db-password: {k8s}\n",
        {"generic-secret-assignment"},
        k8s,
    )

    notebook_key = r(ALNUM, 32)
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "source": ["import vendor\n", f'vendor.connect(api_key="{notebook_key}")\n'],
            }
        ],
        "nbformat": 4,
    }
    c.plant(
        "notebooks/explore.ipynb",
        json.dumps(notebook, indent=1),
        {"generic-secret-assignment"},
        notebook_key,
    )

    bearer = r(B64URL, 40)
    c.plant(
        "api/requests.http",
        f"GET /orders\nAuthorization: Bearer {bearer}\n",
        {"authorization-header"},
        bearer,
    )

    _add_clean(c, rnd)
    return c


def _add_clean(c: Corpus, rnd: random.Random) -> None:
    def rr(chars: str, n: int) -> str:
        return "".join(rnd.choice(chars) for _ in range(n))

    sha = hashlib.sha256(b"orders").hexdigest()
    public_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    fake_cert_body = base64.encodebytes(bytes(rnd.getrandbits(8) for _ in range(300))).decode()
    clean = {
        "clean/settings_a.py": 'password = "changeme"\n',
        "clean/settings_b.py": 'token = os.environ["API_TOKEN"]\n',
        "clean/settings_c.py": "password = get_password()\nsecret = settings.SECRET_KEY\n",
        "clean/settings_d.py": "api_key = None\nPASSWORD_MIN_LENGTH = 12\n",
        "clean/settings_e.py": (
            'SECRET_KEY_ENV = "APP_SECRET_KEY"\nSECRET_NAME = "prod/db/password"\n'
        ),
        "clean/settings_f.py": 'TOKEN = "%(token)s"\nauth_token = "$AUTH_TOKEN"\n',
        "clean/settings_g.py": f'password_hash = "{sha}"\nsha256 = "{sha}"\n',
        "clean/settings_h.py": f'request_id = "{uuid.UUID(int=rnd.getrandbits(128))}"\n',
        "clean/settings_i.py": (
            'token_url = "https://auth.orders.test/oauth/token"\nmax_tokens = 4096\n'
        ),
        "clean/settings_j.py": 'tokenizer = "bert-base-uncased"\npassword_reset_timeout = 3600\n',
        "clean/settings_k.py": 'cache_key = "user:1234:profile"\npassword_field = "password"\n',
        "clean/settings_l.py": f'api_token = "{uuid.UUID(int=rnd.getrandbits(128))}"\n',
        "clean/config_a.yml": "api_key: ${API_KEY}\n",
        "clean/config_b.yml": 'secret_key: "{{ secret_key }}"\n',
        "clean/config_c.yml": "password: <your-password>\n",
        "clean/config_d.yml": "password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n",
        "clean/config_e.yml": 'client_secret: "********"\npassword: ""\n',
        "clean/config_f.yml": "db:\n  password: null\n  token: ~\n",
        "clean/config_a.env": "PASSWORD=xxxxxxxx\n",
        "clean/config_b.env": "API_KEY=example-key-123\n",
        "clean/config_c.env": "TOKEN=aaaaaaaaaaaaaaaaaaaa\n",
        "clean/config_d.env": "DATABASE_URL=postgres://orders:${DB_PASSWORD}@db/orders\n",
        "clean/config_e.env": "DATABASE_URL=postgres://user:password@localhost/db\n",
        "clean/config_f.env": "MYSQL=mysql://root@localhost/orders\n",
        "clean/urls.txt": "git+https://github.com/org/repo.git@v1.2\nhttps://user:<token>@github.com/x\n",
        "clean/placeholder_tokens.md": (
            "export GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
            "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX\n"
        ),
        "clean/pem_constant.py": 'PEM_HEADER = "-----BEGIN PRIVATE KEY-----"\n',
        "clean/public.pem": public_pem,
        "clean/cert.pem": (
            f"-----BEGIN CERTIFICATE-----\n{fake_cert_body}-----END CERTIFICATE-----\n"
        ),
        "clean/package-lock.json": json.dumps(
            {"integrity": "sha512-" + base64.b64encode(hashlib.sha512(b"x").digest()).decode()}
        ),
        "clean/git_shas.txt": f"commit {hashlib.sha1(b'a').hexdigest()}\nparent {sha}\n",
        "clean/not_a_jwt.txt": "eyJ"
        + rr(B64URL, 20)
        + ".eyJ"
        + rr(B64URL, 20)
        + "."
        + rr(B64URL, 20),
        "clean/slack_docs.md": (
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX\n"
        ),
        "clean/curl.sh": 'curl -H "Authorization: Bearer $TOKEN" https://api.orders.test\n',
        "clean/readme.md": "Set `password=` in your `.env`; never commit the token.\n",
        "tests/test_login.py": 'client.login(password="test-password-123")\n',
        "tests/fixtures/users.json": '{"password": "fake-password-for-tests"}\n',
        "clean/uuid.yml": f"tenant_id: {uuid.uuid4()}\ncorrelation_id: {uuid.uuid4()}\n",
        "clean/numbers.env": "PIN_LENGTH=6\nTOKEN_TTL=86400\n",
        "clean/i18n.json": '{"password": "Password", "token_expired": "Your session expired"}\n',
        "clean/form.html": '<input type="password" name="password" value="">\n',
        "clean/k8s.yml": (
            "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n"
            "        name: db\n        key: password\n"
        ),
    }
    # Look-alikes met in real code (site-packages, GitHub's OpenAPI description).
    clean.update(
        {
            "clean/real/sqlalchemy_docs.py": (
                'e = create_engine("mysql+pymysql://scott:tiger@192.168.0.134/test")\n'
            ),
            "clean/real/alembic_ops.py": 'def f(upgrade_token: str = "upgrades"): ...\n',
            "clean/real/markdown.py": 'token.markup = "autolink"\n',
            "clean/real/oid.py": (
                'OIDS = {ExtensionOID.PRIVATE_KEY_USAGE_PERIOD: "privateKeyUsagePeriod"}\n'
            ),
            "clean/real/entry_points.txt": (
                "[bandit.plugins]\n"
                "try_except_pass = bandit.plugins.try_except_pass:try_except_pass\n"
            ),
            "clean/xml/settings.xml": (
                "<server><password>${env.NEXUS_PASSWORD}</password></server>\n"
            ),
            "clean/xml/web.config": '<add key="ApiKeyHeaderName" value="X-Api-Key" />\n',
            "clean/k8s_secret.yaml": (
                "kind: Secret\ndata:\n  password: "
                + base64.b64encode(b"changeme-now").decode()
                + "\n  api-token: "
                + base64.b64encode(b"${API_TOKEN}").decode()
                + "\n"
            ),
            "clean/real/leet.env": "GIT_URL=file://someone:t0p-s3cret@repo/bare.git\n",
            "clean/real/env_test.py": 'env = {"GITHUB_TOKEN": "abcd1234efgh"}\n',
            "clean/real/docs.md": (
                "Options live under `checks: checkers: secrets: options:` in `.evobot.yml`.\n"
            ),
            "clean/real/openapi.json": json.dumps(
                {
                    "token_last_eight": "Ae178B4a",
                    "token_expires_at": "2023-11-16T08:47:09.000-07:00",
                    "examples": ["ghp_" + "1234567890abcdef" * 2 + "12345678"],
                },
                indent=2,
            ),
        }
    )
    for path, text in clean.items():
        c.add_clean(path, text)
