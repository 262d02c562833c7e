# TLS material for test servers, made with openssl at test time (EC P-256 keys). Source it.
#
#   tls_ca KEY PEM CN DAYS                      a self-signed CA
#   tls_leaf CA_PEM CA_KEY KEY PEM CN SAN DAYS  a server certificate signed by that CA; SAN is
#                                               openssl's syntax, e.g. "DNS:host,IP:127.0.0.1"
# Both write openssl's chatter to stderr and return non-zero on failure; callers decide what to say.

# Print the openssl config both commands use; the leaf section carries SAN.
tls_config() {
  cat <<CNF
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
subjectAltName = $1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
}

tls_ca() {
  local key=$1 pem=$2 cn=$3 days=$4 cnf
  cnf=$(mktemp)
  tls_config "DNS:unused" >"$cnf"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -config "$cnf" -extensions ca \
    -days "$days" -subj "/CN=$cn" -keyout "$key" -out "$pem"
  local status=$?
  rm -f "$cnf"
  return $status
}

tls_leaf() {
  local ca_pem=$1 ca_key=$2 key=$3 pem=$4 cn=$5 san=$6 days=$7 cnf
  cnf=$(mktemp)
  tls_config "$san" >"$cnf"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -config "$cnf" -subj "/CN=$cn" \
    -keyout "$key" -out "$pem.csr" &&
    openssl x509 -req -in "$pem.csr" -CA "$ca_pem" -CAkey "$ca_key" -set_serial "0x$(openssl rand -hex 16)" \
      -days "$days" -extfile "$cnf" -extensions leaf -out "$pem"
  local status=$?
  rm -f "$cnf" "$pem.csr"
  return $status
}
