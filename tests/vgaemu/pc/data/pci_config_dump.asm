bits 16
org 0x7c00
; Dump the PCI config space of every function on bus 0, device 0..5, as QEMU + SeaBIOS
; leave it, over debugcon: "BB:DD.F OO: xxxxxxxx" lines. Then probe BAR sizing of 00:02.0.
start:
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    xor bx, bx              ; bx = devfn
.fn:
    mov eax, 0x80000000
    movzx ecx, bx
    shl ecx, 8
    or eax, ecx
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    cmp ax, 0xffff
    je .next
    xor si, si               ; si = register offset
.reg:
    mov eax, 0x80000000
    movzx ecx, bx
    shl ecx, 8
    or eax, ecx
    or ax, si
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    push eax
    mov al, 'C'
    call putc
    mov al, ' '
    call putc
    mov ax, bx
    call hex16
    mov al, ' '
    call putc
    mov ax, si
    call hex8
    mov al, ' '
    call putc
    pop eax
    call hex32
    mov al, 10
    call putc
    add si, 4
    cmp si, 256
    jb .reg
.next:
    inc bx
    cmp bx, 0x30
    jb .fn
; BAR sizing on 00:02.0: for each of 0x10..0x24 and 0x30: save, write ~0, read, restore
    mov si, 0x10
.bar:
    mov eax, 0x80001000
    or ax, si
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    mov edi, eax
    mov eax, 0xffffffff
    out dx, eax
    in eax, dx
    push eax
    mov eax, edi
    out dx, eax
    mov al, 'S'
    call putc
    mov al, ' '
    call putc
    mov ax, si
    call hex8
    mov al, ' '
    call putc
    pop eax
    call hex32
    mov al, 10
    call putc
    add si, 4
    cmp si, 0x34
    jb .bar
; index port quirks: read 0xcf8 as dword/word/byte at each offset after writing 0x80001234
    mov eax, 0x80001234
    mov dx, 0xcf8
    out dx, eax
    mov al, 'I'
    call putc
    mov al, ' '
    call putc
    mov dx, 0xcf8
    in eax, dx
    call hex32
    mov al, ' '
    call putc
    mov dx, 0xcfa
    in ax, dx
    call hex16
    mov al, ' '
    call putc
    mov dx, 0xcfb
    in al, dx
    call hex8
    mov al, ' '
    call putc
    ; a word write to 0xcf8 must not change the index
    mov dx, 0xcf8
    mov ax, 0x0008
    out dx, ax
    in eax, dx
    call hex32
    mov al, ' '
    call putc
    ; disabled (bit 31 clear): data port reads all-ones
    mov eax, 0x00001000
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    call hex32
    mov al, ' '
    call putc
    ; byte/word reads of the data port at offsets 1..3 of 00:02.0 reg 0
    mov eax, 0x80001000
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfd
    in al, dx
    call hex8
    mov al, ' '
    call putc
    mov dx, 0xcfe
    in ax, dx
    call hex16
    mov al, ' '
    call putc
    mov dx, 0xcfd
    in eax, dx         ; unaligned dword read of the data port
    call hex32
    mov al, 10
    call putc
    mov al, 'E'
    call putc
    mov al, 10
    call putc
    cli
.h: hlt
    jmp .h

putc:
    out 0xe9, al
    ret
hex32:
    push eax
    shr eax, 16
    call hex16
    pop eax
hex16:
    push ax
    mov al, ah
    call hex8
    pop ax
hex8:
    push ax
    shr al, 4
    call nib
    pop ax
    push ax
    and al, 15
    call nib
    pop ax
    ret
nib:
    add al, '0'
    cmp al, '9'
    jbe .o
    add al, 7
.o: call putc
    ret
times 510-($-$$) db 0
dw 0xaa55
