; store.asm -- benchmarks/bench_cpu.py's store-heavy program: stores and REP STOS into RAM
; and into VRAM through the linear framebuffer (unreal mode, 0x67 addressing).
; Loaded at 0000:7C00; the iteration count is the dword at 0000:0500 and the LFB address the
; dword at 0000:0504; ends with CLI; HLT.  Each turn: 4096 word stores into RAM by a loop,
; REP STOSD over 16 KiB of RAM, 2048 dword stores into VRAM by a loop, A32 REP STOSD over
; 64 KiB of VRAM.
; Rebuild: nasm -f bin -o store.bin store.asm
bits 16
org 0x7C00
        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7C00
        cld
        lgdt [gdt_desc]                 ; unreal mode for FS and GS
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp short .pm
.pm:    mov bx, 0x08
        mov fs, bx
        mov gs, bx
        and al, 0xFE
        mov cr0, eax
        jmp short .rm
.rm:    mov ebp, [0x500]
.turn:  mov ax, 0x2000                  ; RAM at 2000:0000
        mov es, ax
        xor di, di
        mov cx, 4096
.w:     mov [es:di], cx                 ; 4096 word stores
        add di, 2
        dec cx
        jnz .w
        xor di, di
        mov eax, ebp
        mov cx, 4096
        rep stosd                       ; 16 KiB of RAM
        mov edi, [0x504]                ; the LFB
        mov cx, 2048
.v:     mov [fs:edi], ebp               ; 2048 dword stores into VRAM
        add edi, 4
        dec cx
        jnz .v
        push gs
        pop es                          ; ES = the flat unreal selector's cache: base 0
        mov edi, [0x504]
        add edi, 0x10000
        mov ecx, 16384
        mov eax, ebp
        a32 rep stosd                   ; 64 KiB of VRAM
        xor ax, ax
        mov es, ax
        dec ebp
        jnz .turn
        cli
        hlt

align 8
gdt:    dq 0
        dw 0xFFFF, 0x0000
        db 0x00, 0x92, 0xCF, 0x00
gdt_desc:
        dw 15
        dd gdt
