#!/usr/bin/env bash
# A fake Kubernetes API server for tests: nginx over TLS on a loopback address, serving JSON
# fixtures at the real REST paths, requiring `Authorization: Bearer <token>`. Started and stopped
# by recorded PID; never listens outside 127.0.0.0/8.
#
#   fake_api.sh start STATE_DIR FIXTURES_DIR [RULE...]   quiet on success; writes STATE_DIR/env
#   fake_api.sh stop STATE_DIR                           stops the recorded nginx; safe when stopped
#
# FIXTURES_DIR mirrors the REST paths: GET /api/v1/namespaces/coder/services/coder serves
# FIXTURES_DIR/api/v1/namespaces/coder/services/coder.json (the query string is ignored).
# Unknown paths get a 404 Status object.
#
# RULEs (PATH is an exact request path without query):
#   token=TOKEN             the accepted bearer token (default: a random one); others get 401
#   path-token=PATH=TOKEN   PATH accepts TOKEN instead (token rotation tests)
#   forbid=PATH             403 with a Status object, as RBAC would answer
#   status=PATH=CODE        CODE with a Status object (e.g. 500)
#   malformed=PATH          200 with a truncated JSON body
#   slow=PATH=BYTES_PER_S   the fixture, sent at BYTES_PER_S (headers included): a slow or hung server
#
# STATE_DIR/env exports KUBE_API_URL, KUBE_API_CA (the CA made at start), KUBE_API_TOKEN_FILE
# (holding the accepted token), KUBE_API_ADDR, KUBE_API_PORT. Address and port come from
# KUBE_API_ADDR / KUBE_API_PORT (default 127.0.6.1:16443).
set -euo pipefail
prog=fake_api.sh
ADDR=${KUBE_API_ADDR:-127.0.6.1}
PORT=${KUBE_API_PORT:-16443}

die() { echo "$prog: $*" >&2; exit 1; }

[[ $ADDR == 127.* ]] || die "KUBE_API_ADDR must be a 127.x address (got $ADDR)"

alive() { [[ -r /proc/$1/stat ]] && ! grep -qE '^[0-9]+ \(.*\) [ZX] ' "/proc/$1/stat"; }

recorded_pid() {
  local dir=$1 pid start
  read -r pid 2>/dev/null <"$dir/nginx.pid.recorded" || return 1
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  read -r start 2>/dev/null <"$dir/nginx.start" || return 1
  [[ $(awk '{sub(/^.*\) /, ""); print $20}' "/proc/$pid/stat") == "$start" ]] || return 1
  echo "$pid"
}

make_tls() {
  local dir=$1 cnf=$1/tls/openssl.cnf
  mkdir -p "$dir/tls"
  cat >"$cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:$ADDR,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  {
    openssl req -x509 "${ec[@]}" -config "$cnf" -extensions ca -days 2 -subj "/CN=fake kubernetes API CA" \
      -keyout "$dir/tls/ca.key" -out "$dir/ca.pem" &&
      openssl req -new "${ec[@]}" -config "$cnf" -subj "/CN=kube-apiserver" \
        -keyout "$dir/tls/server.key" -out "$dir/tls/server.csr" &&
      openssl x509 -req -in "$dir/tls/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/tls/ca.key" \
        -set_serial "0x$(openssl rand -hex 16)" -days 2 -extfile "$cnf" -extensions leaf -out "$dir/tls/server.pem"
  } >"$dir/tls/openssl.log" 2>&1 || { tail -n 5 "$dir/tls/openssl.log" >&2; die "could not create the TLS files"; }
}

# status_body CODE REASON MESSAGE -> a Kubernetes Status object, as nginx `return` text
status_body() {
  printf '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"%s","reason":"%s","code":%s}' \
    "$3" "$2" "$1"
}

render_config() {
  local dir=$1 fixtures=$2; shift 2
  local token rule path value locations="" path_tokens=""
  token=$(openssl rand -hex 24)
  for rule in "$@"; do
    case $rule in
      token=*) token=${rule#token=} ;;
      path-token=*)
        value=${rule#path-token=}; path=${value%%=*}
        path_tokens+="    \"$path\" \"Bearer ${value#*=}\";"$'\n' ;;
      forbid=*)
        path=${rule#forbid=}
        locations+="  location = $path { return 403 '$(status_body 403 Forbidden \
          "forbidden: User system:serviceaccount:coder:coder-dns-doctor cannot access $path")'; }"$'\n' ;;
      status=*)
        value=${rule#status=}; path=${value%%=*}
        locations+="  location = $path { return ${value#*=} '$(status_body "${value#*=}" InternalError \
          "etcdserver: request timed out")'; }"$'\n' ;;
      malformed=*)
        path=${rule#malformed=}
        locations+="  location = $path { return 200 '{\"kind\": \"List\", \"items\": [{\"metadata\": {\"na'; }"$'\n' ;;
      slow=*)
        value=${rule#slow=}; path=${value%%=*}
        locations+="  location = $path { limit_rate ${value#*=}; try_files \$uri.json =404; }"$'\n' ;;
      *) die "unknown rule '$rule'" ;;
    esac
  done
  [[ $token =~ ^[A-Za-z0-9._~+/=-]+$ ]] || die "token must be token68 characters"
  printf '%s\n' "$token" >"$dir/token"
  chmod 600 "$dir/token"
  local n=$dir/nginx
  mkdir -p "$n"/{body,proxy,fastcgi,uwsgi,scgi} "$dir/logs"
  cat >"$n/nginx.conf" <<CONF
# generated by tests/k8s/fake_api.sh
$( ((EUID == 0)) && echo "user $(id -un) $(id -gn);  # workers read fixtures in the test's private dir" )
worker_processes 1;
pid $n/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 256; }
http {
  log_format api '\$time_iso8601 "\$request_method \$request_uri" \$status \$body_bytes_sent';
  map_hash_bucket_size 256;
  access_log $dir/logs/access.log api;
  client_body_temp_path $n/body;
  proxy_temp_path $n/proxy;
  fastcgi_temp_path $n/fastcgi;
  uwsgi_temp_path $n/uwsgi;
  scgi_temp_path $n/scgi;
  default_type application/json;
  server_tokens off;
  sendfile off;  # so limit_rate paces every byte
  map \$uri \$expected_authorization {
    default "Bearer $token";
$path_tokens  }
  server {
    listen $ADDR:$PORT ssl;
    ssl_certificate $dir/tls/server.pem;
    ssl_certificate_key $dir/tls/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $fixtures;
    if (\$http_authorization != \$expected_authorization) {
      return 401 '$(status_body 401 Unauthorized Unauthorized)';
    }
    error_page 404 = @not_found;
    location @not_found { return 404 '$(status_body 404 NotFound "the server could not find the requested resource")'; }
$locations
    location / { try_files \$uri.json =404; }
  }
}
CONF
}

cmd_start() {
  local dir=${1:?STATE_DIR} fixtures=${2:?FIXTURES_DIR}; shift 2
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  fixtures=$(cd "$fixtures" && pwd)
  if pid=$(recorded_pid "$dir"); then die "already running (pid $pid); stop it first"; fi
  command -v nginx >/dev/null || die "nginx not found (scripts/install-deps.sh installs nginx-light)"
  if [[ -n $(ss -Hlnt "src $ADDR:$PORT" 2>/dev/null) ]]; then
    die "cannot start: $ADDR:$PORT/tcp is already in use ($(ss -Hlntp "src $ADDR:$PORT" | grep -o 'users:.*' || true))"
  fi
  make_tls "$dir"
  render_config "$dir" "$fixtures" "$@"
  : >"$dir/logs/error.log"
  setsid nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/logs/error.log" -g 'daemon off;' \
    </dev/null >>"$dir/logs/error.log" 2>&1 9>&- &
  local pid=$!
  echo "$pid" >"$dir/nginx.pid.recorded"
  awk '{sub(/^.*\) /, ""); print $20}' "/proc/$pid/stat" >"$dir/nginx.start" 2>/dev/null || true
  local i
  for i in $(seq 200); do
    alive "$pid" || { tail -n 5 "$dir/logs/error.log" >&2; die "nginx exited during startup"; }
    if curl -s --noproxy '*' --max-time 0.5 --cacert "$dir/ca.pem" -o /dev/null "https://$ADDR:$PORT/"; then
      break
    fi
    ((i < 200)) || { cmd_stop "$dir"; die "nginx did not answer on $ADDR:$PORT within 5 s"; }
    sleep 0.025
  done
  cat >"$dir/env" <<ENV
# generated by tests/k8s/fake_api.sh; source it
export KUBE_API_URL=https://$ADDR:$PORT
export KUBE_API_ADDR=$ADDR
export KUBE_API_PORT=$PORT
export KUBE_API_CA=$dir/ca.pem
export KUBE_API_TOKEN_FILE=$dir/token
ENV
}

cmd_stop() {
  local dir=${1:?STATE_DIR} pid kids
  [[ -d $dir ]] || return 0
  if pid=$(recorded_pid "$dir"); then
    kids=$(ps -o pid= --ppid "$pid" 2>/dev/null | tr -d ' ' || true)
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 200); do alive "$pid" || break; sleep 0.025; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
    for k in $kids; do alive "$k" && kill -KILL "$k" 2>/dev/null; done
  fi
  rm -f "$dir/nginx.pid.recorded" "$dir/nginx.start"
  return 0
}

case ${1:-} in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) echo "usage: $prog start STATE_DIR FIXTURES_DIR [RULE...] | stop STATE_DIR" >&2; exit 2 ;;
esac
