;; A livemall plug-in written by hand in WebAssembly text: no SDK, no
;; allocator, no JSON library. It handles cart.price: when the input contains
;; the JSON string "WAT10" (the shopper entered the code WAT10), it returns an
;; order-level adjustment of -1000 minor units; otherwise no effects.
;;
;; Memory layout: constant data in the first 1 KiB, the input from 1024 on.
(module
  (import "livemall_v1" "input_len" (func $input_len (result i32)))
  (import "livemall_v1" "input_read" (func $input_read (param i32 i32) (result i32)))
  (import "livemall_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (import "livemall_v1" "log" (func $log (param i32 i32 i32) (result i32)))

  (memory (export "memory") 1)

  (global $input i32 (i32.const 1024))

  ;; the code to look for, with its quotes (7 bytes)
  (data (i32.const 0) "\"WAT10\"")
  ;; the effects when it is found (76 bytes)
  (data (i32.const 16)
    "{\"adjustments\":[{\"amount\":-1000,\"label\":\"WAT10: 10.00 off\",\"code\":\"WAT10\"}]}")
  ;; no effects (2 bytes)
  (data (i32.const 128) "{}")
  ;; a log line (18 bytes)
  (data (i32.const 144) "code WAT10 applied")
  ;; the error output (37 bytes)
  (data (i32.const 176) "{\"message\":\"input could not be read\"}")

  ;; The ABI v1 marker: the host refuses a module without it.
  (func (export "livemall_abi_v1"))

  ;; 1 if the 7-byte needle at address 0 occurs in [$input, $input + $len).
  (func $contains_code (param $len i32) (result i32)
    (local $at i32)
    (local $end i32)
    (local $i i32)
    (if (i32.lt_u (local.get $len) (i32.const 7)) (then (return (i32.const 0))))
    (local.set $at (global.get $input))
    (local.set $end (i32.add (global.get $input) (i32.sub (local.get $len) (i32.const 7))))
    (block $not_found
      (loop $next_position
        (br_if $not_found (i32.gt_u (local.get $at) (local.get $end)))
        (local.set $i (i32.const 0))
        (block $mismatch
          (loop $next_byte
            (br_if $mismatch
              (i32.ne (i32.load8_u (i32.add (local.get $at) (local.get $i)))
                      (i32.load8_u (local.get $i))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $next_byte (i32.lt_u (local.get $i) (i32.const 7)))
            (return (i32.const 1))))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))
        (br $next_position)))
    (i32.const 0))

  ;; Status 0 with the effects written; non-zero with {"message": ...} on failure.
  (func (export "cart.price") (result i32)
    (local $len i32)
    (local $pages i32)
    (local.set $len (call $input_len))
    ;; Grow memory until the input fits after the constants.
    (local.set $pages
      (i32.shr_u (i32.add (i32.add (global.get $input) (local.get $len)) (i32.const 65535))
                 (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
          (then
            (drop (call $output_write (i32.const 176) (i32.const 37)))
            (return (i32.const 1))))))
    (if (i32.ne (call $input_read (global.get $input) (local.get $len)) (local.get $len))
      (then
        (drop (call $output_write (i32.const 176) (i32.const 37)))
        (return (i32.const 1))))
    (if (call $contains_code (local.get $len))
      (then
        ;; A full log budget is not a failure: ignore log's status.
        (drop (call $log (i32.const 1) (i32.const 144) (i32.const 18)))
        ;; output_write's status (0, or negative on failure) is the hook's status.
        (return (call $output_write (i32.const 16) (i32.const 76)))))
    (call $output_write (i32.const 128) (i32.const 2)))
)
