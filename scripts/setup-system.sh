#!/usr/bin/env bash
# Installs the system packages Beacon's tests need, from Debian's packages, when they are missing:
# the R runtime for R algorithms (r-base-core + r-cran-jsonlite), Debian's Python 3 for Python
# algorithms, Java 17 + Maven for the Kafka broker, openssl for its throw-away CA, PostgreSQL,
# Chromium for the web console's browser tests (Debian's build; playwright-core never downloads one),
# the worker sandbox's tools (bubblewrap, slirp4netns, iptables, socat, util-linux), and git (Beacon
# serves algorithm source through `git http-backend`; the tests clone and push).
# Idempotent and quiet when everything is present. Needs root (or sudo) to install.
set -euo pipefail

missing=()
command -v Rscript >/dev/null 2>&1 || missing+=(r-base-core)
dpkg -s r-cran-jsonlite >/dev/null 2>&1 || missing+=(r-cran-jsonlite)
[[ -x /usr/bin/python3 ]] || missing+=(python3)
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
# The worker sandbox (docs/security.md): bubblewrap for the namespaces, slirp4netns and iptables for
# network_access "full", socat for the callback forwarder, util-linux for nsenter and setpriv.
[[ -x /usr/bin/bwrap ]] || missing+=(bubblewrap)
[[ -x /usr/bin/slirp4netns ]] || missing+=(slirp4netns)
[[ -x /usr/sbin/iptables-restore ]] || missing+=(iptables)
[[ -x /usr/bin/socat ]] || missing+=(socat)
[[ -x /usr/bin/nsenter && -x /usr/bin/setpriv ]] || missing+=(util-linux)
command -v git >/dev/null 2>&1 || missing+=(git)

if ((${#missing[@]})); then
  echo "setup-system: installing ${missing[*]}" >&2
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The tests use the machine's PostgreSQL on 127.0.0.1:5432 unless TEST_DATABASE_URL/DATABASE_URL says otherwise.
if [[ -z "${TEST_DATABASE_URL:-}${DATABASE_URL:-}" ]] && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "setup-system: starting PostgreSQL" >&2
  cluster=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$cluster" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
