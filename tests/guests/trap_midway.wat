;; Reads its input, logs, then hits `unreachable`.
(module
  (import "livemall_v1" "input_len" (func $input_len (result i32)))
  (import "livemall_v1" "input_read" (func $input_read (param i32 i32) (result i32)))
  (import "livemall_v1" "log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 8)
  (data (i32.const 0) "about to fail")
  (func (export "livemall_abi_v1"))
  (func (export "cart.price") (result i32)
    (drop (call $input_read (i32.const 1024) (call $input_len)))
    (drop (call $log (i32.const 3) (i32.const 0) (i32.const 13)))
    (unreachable))
)
