;; Answers cart.price and every async hook with effects taken from its install's
;; configuration, so a test states exactly what the plug-in returns: for hook
;; H it copies the JSON object that follows the first `"H":` of the input (the
;; configuration is the only place such a key appears). A configuration
;; value that is not an object (e.g. "fail") makes the hook fail with status 1;
;; no such key means no effects.
(module
  (import "livemall_v1" "input_len" (func $input_len (result i32)))
  (import "livemall_v1" "input_read" (func $input_read (param i32 i32) (result i32)))
  (import "livemall_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  ;; 6 pages: the patterns below 1 KiB, the input from 64 KiB (up to 256 KiB).
  (memory (export "memory") 6)
  (data (i32.const 0) "\"order.created\":")
  (data (i32.const 64) "\"order.paid\":")
  (data (i32.const 128) "\"order.cancelled\":")
  (data (i32.const 192) "\"order.refunded\":")
  (data (i32.const 256) "\"stream.started\":")
  (data (i32.const 320) "\"stream.ended\":")
  (data (i32.const 384) "\"stream.product_pinned\":")
  (data (i32.const 448) "\"stream.product_unpinned\":")
  (data (i32.const 512) "\"stream.viewers\":")
  (data (i32.const 576) "\"stream.comment\":")
  (data (i32.const 640) "\"timer.fired\":")
  (data (i32.const 704) "\"cart.price\":")
  (func (export "livemall_abi_v1"))

  ;; Whether the $len pattern bytes at $pat stand at $at.
  (func $matches (param $at i32) (param $pat i32) (param $len i32) (result i32)
    (local $i i32)
    (block $no
      (loop $next
        (br_if $no (i32.ne (i32.load8_u (i32.add (local.get $at) (local.get $i)))
                           (i32.load8_u (i32.add (local.get $pat) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $next (i32.lt_u (local.get $i) (local.get $len))))
      (return (i32.const 1)))
    (i32.const 0))

  (func $answer (param $pat i32) (param $len i32) (result i32)
    (local $end i32) (local $p i32) (local $i i32) (local $b i32)
    (local $depth i32) (local $in_str i32) (local $esc i32)
    (local.set $end (i32.add (i32.const 65536)
      (call $input_read (i32.const 65536) (call $input_len))))
    (local.set $p (i32.const 65536))
    (block $found
      (loop $scan
        (if (i32.gt_u (i32.add (local.get $p) (local.get $len)) (local.get $end))
          (then (return (i32.const 0))))
        (br_if $found (call $matches (local.get $p) (local.get $pat) (local.get $len)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $scan)))
    (local.set $p (i32.add (local.get $p) (local.get $len)))
    (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 0x7b)) (then (return (i32.const 1))))
    (local.set $i (local.get $p))
    (block $done
      (loop $walk
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $b (i32.load8_u (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (if (local.get $in_str)
          (then
            (if (local.get $esc)
              (then (local.set $esc (i32.const 0)))
              (else
                (if (i32.eq (local.get $b) (i32.const 0x5c)) (then (local.set $esc (i32.const 1))))
                (if (i32.eq (local.get $b) (i32.const 0x22)) (then (local.set $in_str (i32.const 0)))))))
          (else
            (if (i32.eq (local.get $b) (i32.const 0x22)) (then (local.set $in_str (i32.const 1))))
            (if (i32.eq (local.get $b) (i32.const 0x7b)) (then (local.set $depth (i32.add (local.get $depth) (i32.const 1)))))
            (if (i32.eq (local.get $b) (i32.const 0x7d))
              (then
                (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
                (br_if $done (i32.eqz (local.get $depth)))))))
        (br $walk)))
    (drop (call $output_write (local.get $p) (i32.sub (local.get $i) (local.get $p))))
    (i32.const 0))

  (func (export "cart.price") (result i32) (call $answer (i32.const 704) (i32.const 13)))
  (func (export "order.created") (result i32) (call $answer (i32.const 0) (i32.const 16)))
  (func (export "order.paid") (result i32) (call $answer (i32.const 64) (i32.const 13)))
  (func (export "order.cancelled") (result i32) (call $answer (i32.const 128) (i32.const 18)))
  (func (export "order.refunded") (result i32) (call $answer (i32.const 192) (i32.const 17)))
  (func (export "stream.started") (result i32) (call $answer (i32.const 256) (i32.const 17)))
  (func (export "stream.ended") (result i32) (call $answer (i32.const 320) (i32.const 15)))
  (func (export "stream.product_pinned") (result i32) (call $answer (i32.const 384) (i32.const 24)))
  (func (export "stream.product_unpinned") (result i32) (call $answer (i32.const 448) (i32.const 26)))
  (func (export "stream.viewers") (result i32) (call $answer (i32.const 512) (i32.const 17)))
  (func (export "stream.comment") (result i32) (call $answer (i32.const 576) (i32.const 17)))
  (func (export "timer.fired") (result i32) (call $answer (i32.const 640) (i32.const 14)))
)
