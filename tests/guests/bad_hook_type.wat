;; Exports cart.price with the wrong type.
(module
  (memory (export "memory") 1)
  (func (export "livemall_abi_v1"))
  (func (export "cart.price") (param i32) (result i32) (local.get 0))
)
