;; Imports a host function livemall_v1 does not have.
(module
  (import "livemall_v1" "now" (func (result i64)))
  (memory (export "memory") 1)
  (func (export "livemall_abi_v1"))
  (func (export "cart.price") (result i32) (i32.const 0))
)
