;; Exports no hook: nothing would ever call it.
(module
  (memory (export "memory") 1)
  (func (export "livemall_abi_v1"))
  (func (export "price_cart") (result i32) (i32.const 0))
)
