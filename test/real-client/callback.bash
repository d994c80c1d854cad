# callback USER STATE -- what the browser does at the end of a sign-in: back to the client's local callback
# (http://localhost:PORT/callback?code=…&state=…). PORT is the one socket USER's client listens on (/proc/net/tcp*).
callback() {
  local uid port
  uid=$(id -u "$1")
  port=$(awk -v uid="$uid" '$4 == "0A" && $8 == uid { split($2, a, ":"); print a[2]; exit }' /proc/net/tcp /proc/net/tcp6)
  [[ -n "$port" ]] && port=$((16#$port))
  [[ -n "$port" ]] || { echo "callback: $1 listens on no port" >&2; return 1; }
  node -e 'require("http").get(process.argv[1], (r) => { console.log("callback:", r.statusCode); r.resume(); }).on("error", (e) => { console.error(e.message); process.exit(1); })' \
    "http://localhost:$port/callback?code=fake-code&state=$2"
}
