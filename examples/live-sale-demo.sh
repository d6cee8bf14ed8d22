#!/usr/bin/env bash
# A live sale from scratch, against a server started with `cargo run`:
# sign up, open a store with products, install and configure the three
# bundled plug-ins (coupons, countdown, flash deals), start a stream, pin a
# product, follow the live feed, order with a coupon during the countdown and
# in the flash deal, end the stream and print its stats.
#
#   cargo run &            # in another terminal
#   bash examples/live-sale-demo.sh
#
# Needs bash, curl and jq (apt-get install -y curl jq). LIVEMALL_URL
# overrides http://127.0.0.1:8080.
set -euo pipefail

base=${LIVEMALL_URL:-http://127.0.0.1:8080}
api=$base/api/v1
for tool in curl jq; do
  command -v $tool >/dev/null || { echo "this demo needs $tool (apt-get install -y $tool)" >&2; exit 1; }
done

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
key() { cat /proc/sys/kernel/random/uuid; }
# call METHOD PATH [BODY]: prints the JSON answer; fails loudly on an HTTP error.
call() {
  local method=$1 path=$2 body=${3:-} out status
  out=$(mktemp)
  status=$(curl -sS -o "$out" -w '%{http_code}' -X "$method" "$api$path" \
    ${token:+-H "authorization: Bearer $token"} -H 'content-type: application/json' \
    -H "Idempotency-Key: $(key)" ${body:+-d "$body"})
  if [[ $status -ge 400 ]]; then
    echo "$method $path -> $status" >&2
    jq . "$out" >&2 || cat "$out" >&2
    rm -f "$out"
    return 1
  fi
  cat "$out"
  rm -f "$out"
}

curl -sf "$base/health/ready" >/dev/null || { echo "no livemall at $base: start it with 'cargo run'" >&2; exit 1; }

step "sign up a merchant"
token=
suffix=$(date +%s)
signup=$(call POST /auth/signup "{\"email\":\"demo-$suffix@example.com\",\"password\":\"a long demo password $suffix\",\"tenant_name\":\"Live Demo $suffix\"}")
token=$(jq -r .access_token <<<"$signup")
tenant=$(jq -r .tenant.slug <<<"$signup")
echo "tenant $tenant"

step "a store and two products"
store=$(call POST /stores '{"name":"Live shop","slug":"live","currency":"EUR","time_zone":"Europe/Paris"}' | jq -r .id)
lamp=$(call POST "/stores/$store/products" \
  '{"title":"Desk lamp","tags":["home"],"variants":[{"sku":"LAMP","title":"Black","price":4900,"stock":200}]}')
lamp_id=$(jq -r .id <<<"$lamp")
call POST "/stores/$store/products" \
  '{"title":"Linen shirt","tags":["summer","shirts"],"variants":[{"sku":"SHIRT-S","title":"Small","price":3900,"stock":50}]}' >/dev/null
echo "store $store, lamp product $lamp_id"

step "the bundled plug-ins in the catalogue"
call GET "/plugins?limit=50" | jq -r '.items[] | "\(.slug)\t\(.name)"'

step "install and configure them"
call POST "/stores/$store/plugins" '{"plugin":"coupons","priority":100,"config":{"campaigns":[
  {"id":"spring","codes":["SPRING"],"discount":"percentage","percent":10,"usage_limit":100,"per_customer_limit":1},
  {"id":"big-basket","automatic":true,"title":"Big basket","discount":"fixed_amount","amount":500,"min_subtotal":10000}]}}' |
  jq -c '{plugin: .plugin.slug, version, running}'
call POST "/stores/$store/plugins" \
  "{\"plugin\":\"countdown\",\"priority\":20,\"config\":{\"duration_seconds\":120,\"products\":[{\"product_id\":\"$lamp_id\",\"percent_off\":20}]}}" |
  jq -c '{plugin: .plugin.slug, version, running}'
call POST "/stores/$store/plugins" '{"plugin":"flash-deals","priority":10,"config":{"deals":[
  {"id":"shirt-drop","variant":"SHIRT-S","price":1900,"quantity":20,"per_customer_limit":1,"live_only":true}]}}' |
  jq -c '{plugin: .plugin.slug, version, running}'

step "a quote with the SPRING code (any case)"
call POST "/storefront/$tenant/live/cart/price" \
  '{"email":"sam@example.com","codes":["spring"],"lines":[{"sku":"SHIRT-S","quantity":2}]}' |
  jq -c '{subtotal: .subtotal, total: .total, rejections: .rejections,
    lines: [.lines[] | {sku: .sku, adjustments: [.adjustments[] | {label: .label, amount: .amount}]}]}'

step "start a stream"
stream=$(call POST "/stores/$store/streams" \
  "{\"title\":\"Friday live sale\",\"scheduled_at\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}" | jq -r .id)
call POST "/stores/$store/streams/$stream/start" '{}' | jq -c '{id, status}'

step "follow the live feed (in the background)"
feed=$(mktemp)
curl -sN "$api/storefront/$tenant/streams/$stream/events" >"$feed" &
feed_pid=$!
trap 'kill $feed_pid 2>/dev/null || true; rm -f "$feed"' EXIT
sleep 1

step "pin the lamp: its countdown starts"
call POST "/stores/$store/streams/$stream/pins" "{\"product_id\":\"$lamp_id\"}" | jq -c .
sleep 2

step "order during the countdown, with a coupon, from the stream"
order=$(call POST "/storefront/$tenant/live/orders" \
  "{\"email\":\"sam@example.com\",\"stream_id\":\"$stream\",\"codes\":[\"spring\"],\"lines\":[{\"sku\":\"LAMP\",\"quantity\":2}]}")
jq '{number: .number, subtotal: .subtotal, total: .total,
  adjustments: [.adjustments[] | {label: .label, amount: .amount, plugin: .plugin_slug}]}' <<<"$order"

step "order in the flash deal"
order=$(call POST "/storefront/$tenant/live/orders" \
  "{\"email\":\"kim@example.com\",\"stream_id\":\"$stream\",\"lines\":[{\"sku\":\"SHIRT-S\",\"quantity\":1}]}")
jq '{number: .number, subtotal: .subtotal, total: .total,
  adjustments: [.adjustments[] | {label: .label, amount: .amount, plugin: .plugin_slug}]}' <<<"$order"
sleep 2

step "what the feed showed"
grep -E '^(event|data):' "$feed" | head -40 || echo "(nothing yet)"

step "end the stream and read its stats"
call POST "/stores/$store/streams/$stream/end" '{}' | jq -c '{id, status}'
call GET "/stores/$store/streams/$stream/stats" | jq .
