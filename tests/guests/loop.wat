;; Never returns: ends in out_of_fuel, or in deadline when fuel is plentiful.
(module
  (memory (export "memory") 1)
  (func (export "livemall_abi_v1"))
  (func (export "cart.price") (result i32)
    (loop $forever (br $forever))
    (i32.const 0))
)
