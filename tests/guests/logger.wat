;; Logs within the budget on cart.price (one line) and past it on
;; order.created (50 lines of 100 bytes against 4 KiB). order.created
;; reports the last status it saw as a cancel_timers key, so the test can
;; see the guest was told the budget was spent.
(module
  (import "livemall_v1" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "livemall_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello from the guest")
  (data (i32.const 100) "{\"cancel_timers\":[\"log_full\"]}")
  (data (i32.const 200) "{\"cancel_timers\":[\"log_ok\"]}")
  (data (i32.const 1000) "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789")
  (func (export "livemall_abi_v1"))
  (func (export "cart.price") (result i32)
    (drop (call $log (i32.const 1) (i32.const 0) (i32.const 20)))
    (i32.const 0))
  (func (export "order.created") (result i32)
    (local $i i32) (local $status i32)
    (loop $again
      (local.set $status (call $log (i32.const 2) (i32.const 1000) (i32.const 100)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 50))))
    (if (i32.eq (local.get $status) (i32.const -2))
      (then (drop (call $output_write (i32.const 100) (i32.const 30))))
      (else (drop (call $output_write (i32.const 200) (i32.const 28)))))
    (i32.const 0))
)
