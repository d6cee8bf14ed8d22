;; Imports `log` with the wrong signature.
(module
  (import "livemall_v1" "log" (func (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "livemall_abi_v1"))
  (func (export "cart.price") (result i32) (i32.const 0))
)
