;; Answers cart.price with its install's configuration as the effects, so a
;; test states exactly what the plug-in returns: it copies the JSON object
;; that follows the first `"config":` of the input (the install's) to the output.
(module
  (import "livemall_v1" "input_len" (func $input_len (result i32)))
  (import "livemall_v1" "input_read" (func $input_read (param i32 i32) (result i32)))
  (import "livemall_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  ;; 6 pages: the pattern at 0, the input from 64 KiB (up to 256 KiB).
  (memory (export "memory") 6)
  (data (i32.const 0) "\"config\":")
  (func (export "livemall_abi_v1"))

  ;; Whether the 9 pattern bytes stand at $at.
  (func $matches (param $at i32) (result i32)
    (local $i i32)
    (block $no
      (loop $next
        (br_if $no (i32.ne (i32.load8_u (i32.add (local.get $at) (local.get $i)))
                           (i32.load8_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $next (i32.lt_u (local.get $i) (i32.const 9))))
      (return (i32.const 1)))
    (i32.const 0))

  (func (export "cart.price") (result i32)
    (local $end i32) (local $p i32) (local $i i32) (local $b i32)
    (local $depth i32) (local $in_str i32) (local $esc i32)
    (local.set $end (i32.add (i32.const 65536)
      (call $input_read (i32.const 65536) (call $input_len))))
    ;; find the pattern
    (local.set $p (i32.const 65536))
    (block $found
      (loop $scan
        (if (i32.gt_u (i32.add (local.get $p) (i32.const 9)) (local.get $end))
          (then (return (i32.const 0))))
        (br_if $found (call $matches (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $scan)))
    (local.set $p (i32.add (local.get $p) (i32.const 9)))
    (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 0x7b)) (then (return (i32.const 0))))
    ;; copy the balanced object, ignoring braces inside strings
    (local.set $i (local.get $p))
    (block $done
      (loop $walk
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $b (i32.load8_u (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (if (local.get $in_str)
          (then
            (if (local.get $esc)
              (then (local.set $esc (i32.const 0)))
              (else
                (if (i32.eq (local.get $b) (i32.const 0x5c)) (then (local.set $esc (i32.const 1))))
                (if (i32.eq (local.get $b) (i32.const 0x22)) (then (local.set $in_str (i32.const 0)))))))
          (else
            (if (i32.eq (local.get $b) (i32.const 0x22)) (then (local.set $in_str (i32.const 1))))
            (if (i32.eq (local.get $b) (i32.const 0x7b)) (then (local.set $depth (i32.add (local.get $depth) (i32.const 1)))))
            (if (i32.eq (local.get $b) (i32.const 0x7d))
              (then
                (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
                (br_if $done (i32.eqz (local.get $depth)))))))
        (br $walk)))
    (drop (call $output_write (local.get $p) (i32.sub (local.get $i) (local.get $p))))
    (i32.const 0))
)
