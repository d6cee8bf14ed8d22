;; A well-behaved cart.price guest: counts the cart's lines (occurrences of
;; "sku" in the input) and answers one adjustment whose amount is that count.
(module
  (import "livemall_v1" "input_len" (func $input_len (result i32)))
  (import "livemall_v1" "input_read" (func $input_read (param i32 i32) (result i32)))
  (import "livemall_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  ;; 5 pages: output at 0, input from 64 KiB (inputs up to 256 KiB).
  (memory (export "memory") 5)
  (data (i32.const 0) "{\"adjustments\":[{\"label\":\"lines\",\"amount\":")
  (func (export "livemall_abi_v1"))

  ;; Writes $n in decimal at $dst; returns the number of bytes written.
  (func $itoa (param $n i32) (param $dst i32) (result i32)
    (local $len i32) (local $tmp i32) (local $i i32)
    (local.set $tmp (local.get $n))
    (local.set $len (i32.const 1))
    (block $done
      (loop $count
        (br_if $done (i32.lt_u (local.get $tmp) (i32.const 10)))
        (local.set $tmp (i32.div_u (local.get $tmp) (i32.const 10)))
        (local.set $len (i32.add (local.get $len) (i32.const 1)))
        (br $count)))
    (local.set $i (local.get $len))
    (loop $write
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (i32.add (local.get $dst) (local.get $i))
                  (i32.add (i32.rem_u (local.get $n) (i32.const 10)) (i32.const 48)))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $write (local.get $i)))
    (local.get $len))

  (func (export "cart.price") (result i32)
    (local $len i32) (local $i i32) (local $count i32) (local $end i32)
    (local.set $len (call $input_len))
    (drop (call $input_read (i32.const 65536) (local.get $len)))
    (local.set $end (i32.add (i32.const 65536) (local.get $len)))
    (local.set $i (i32.const 65536))
    (block $done
      (loop $scan
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 5)) (local.get $end)))
        ;; the bytes `"sku"` : 0x22 0x73 0x6b 0x75 0x22
        (if (i32.and (i32.eq (i32.load (local.get $i)) (i32.const 0x756b7322))
                     (i32.eq (i32.load8_u offset=4 (local.get $i)) (i32.const 0x22)))
          (then (local.set $count (i32.add (local.get $count) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    ;; prefix is 42 bytes; then the digits; then `}]}`
    (local.set $end (i32.add (i32.const 42) (call $itoa (local.get $count) (i32.const 42))))
    (i32.store8 (local.get $end) (i32.const 0x7d))
    (i32.store8 offset=1 (local.get $end) (i32.const 0x5d))
    (i32.store8 offset=2 (local.get $end) (i32.const 0x7d))
    (drop (call $output_write (i32.const 0) (i32.add (local.get $end) (i32.const 3))))
    (i32.const 0))
)
