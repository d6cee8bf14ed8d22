;; A bounded promotion: every cart.price answers 1.00 off the order and a
;; claim of one unit of the install-wide counter "promo", at most 10.
(module
  (import "livemall_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{\"adjustments\":[{\"amount\":-100,\"label\":\"Promo\",\"class\":\"promo\"}],\"claims\":[{\"key\":\"promo\",\"amount\":1,\"limit\":10,\"message\":\"The promotion is sold out.\"}]}")
  (func (export "livemall_abi_v1"))
  (func (export "cart.price") (result i32)
    (drop (call $output_write (i32.const 0) (i32.const 153)))
    (i32.const 0))
)
