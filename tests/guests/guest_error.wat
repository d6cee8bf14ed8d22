;; Fails on purpose: status 7 with a message.
(module
  (import "livemall_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{\"message\":\"coupon service down\"}")
  (func (export "livemall_abi_v1"))
  (func (export "cart.price") (result i32)
    (drop (call $output_write (i32.const 0) (i32.const 33)))
    (i32.const 7))
)
