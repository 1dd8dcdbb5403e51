; text.asm -- benchmarks/bench_cpu_ab.py's text-mode program: what a boot sector that draws
; its screen in mode 03h does.  Sets the sequencer and graphics controller as mode 03h has
; them (odd/even addressing, planes 0+1 written, the window at B800:0000, CPU data passed
; through), then each turn writes the 80x25 screen's 2,000 cells by a loop of word stores
; and again by REP STOSW.  Loaded at 0000:7C00; the turn count is the dword at 0000:0500;
; ends with CLI; HLT.
; Rebuild: nasm -f bin -o text.bin text.asm
bits 16
org 0x7C00
        cli
        xor ax, ax
        mov ds, ax
        cld
        mov dx, 0x3C4
        mov ax, 0x0302                  ; SR2 map mask: planes 0 and 1
        out dx, ax
        mov ax, 0x0204                  ; SR4 memory mode: odd/even, no chain 4
        out dx, ax
        mov dx, 0x3CE
        mov ax, 0x1005                  ; GR5: write mode 0, host odd/even
        out dx, ax
        mov ax, 0x0E06                  ; GR6: B8000-BFFFF, chain odd/even
        out dx, ax
        mov ax, 0xFF08                  ; GR8 bit mask: all bits from the CPU
        out dx, ax
        mov ax, 0xB800
        mov es, ax
        mov ebp, [0x500]
.turn:  xor di, di
        mov cx, 2000
        mov ax, bp
        and ax, 0x0FFF
        or ax, 0x1F00                   ; white on blue
.w:     mov [es:di], ax                 ; 2,000 word stores
        add di, 2
        inc al
        dec cx
        jnz .w
        xor di, di
        mov cx, 2000
        mov ax, 0x2E20
        rep stosw                       ; the screen cleared by one string instruction
        dec ebp
        jnz .turn
        cli
        hlt
