; dmacode.asm -- the DMA engine (a bus master) copies code over the page the CPU is running,
; and the CPU then runs the new code: a device write must throw away translated code on the
; page just as a CPU store does (QEMU's DIRTY_MEMORY_CODE).
;   * finds the engine on PCI bus 0 (vendor 1AF4h, device 10F0h, BAR0 = its registers),
;     or, without PCI config space, at its documented address FEB00000h (checking its ID);
;   * reaches the registers above 1 MiB from real mode through unreal mode (FS with a 4 GiB
;     limit, 32-bit addressing);
;   1. calls a routine (translated, AX = 1111h), has the engine copy a new routine over it,
;      calls it again (AX = 2222h);
;   2. runs straight-line code after the transfer twice: the first pass runs (and
;      translates) it, the second starts a transfer over that very code first and continues
;      into it (AX = 3333h, then 4444h).
; Build: nasm -f bin -o dmacode.img dmacode.asm   (a multi-sector floppy image)
; Run:   vgaemu boot -fda dmacode.img
bits 16
org 0x7c00

SECTORS equ 3                   ; sectors after the boot sector

DMA_ID       equ 0x31414d44     ; "DMA1"
DMA_FIXED    equ 0xfeb00000
REG_ID       equ 0x00
REG_CONTROL  equ 0x04
REG_STATUS   equ 0x08
REG_BYTES    equ 0x0c
REG_SRC_LO   equ 0x10
REG_SRC_HI   equ 0x14
REG_DST_LO   equ 0x18
REG_DST_HI   equ 0x1c
REG_LENGTH   equ 0x20
CTRL_START   equ 1
ST_DONE      equ 2
ST_ERROR     equ 4

start:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    mov ax, 0x0200 + SECTORS    ; read the rest of the program behind the boot sector
    mov cx, 0x0002
    xor dh, dh
    mov bx, 0x7e00
    int 13h
    jc .bad
    jmp main
.bad:
    mov si, msg_load
    call puts
    cli
    hlt

; print the NUL-terminated string at DS:SI
puts:
    push ax
    push bx
.l: lodsb
    test al, al
    jz .d
    mov ah, 0x0e
    mov bx, 0x0007
    int 10h
    jmp .l
.d: pop bx
    pop ax
    ret

; print AX as four hex digits and an 'h'
puthex:
    push cx
    push bx
    mov cx, 4
.d: rol ax, 4
    push ax
    and al, 0x0f
    add al, '0'
    cmp al, '9'
    jbe .o
    add al, 7
.o: mov ah, 0x0e
    mov bx, 0x0007
    int 10h
    pop ax
    loop .d
    push ax
    mov ax, 0x0e00 + 'h'
    int 10h
    pop ax
    pop bx
    pop cx
    ret

; print EAX as eight hex digits and an 'h'
puthex32:
    push eax
    shr eax, 16
    push bx
    call hex4
    pop bx
    pop eax
    call puthex
    ret
hex4:                            ; AX as four digits, no 'h'
    push cx
    mov cx, 4
.d: rol ax, 4
    push ax
    and al, 0x0f
    add al, '0'
    cmp al, '9'
    jbe .o
    add al, 7
.o: mov ah, 0x0e
    mov bx, 0x0007
    int 10h
    pop ax
    loop .d
    pop cx
    ret

; SI = what was tested, AX = the value the code left, BX = the value the new code leaves
report:
    mov di, msg_new
; ... DI = what to say when AX = BX
report_as:
    call puts
    call puthex
    cmp ax, bx
    jne .stale
    mov si, di
    call puts
    ret
.stale:
    inc byte [failures]
    mov si, msg_old
    call puts
    ret

msg_load:  db "dmacode: INT 13h could not read the program", 0
msg_new:   db " -> the new code ran", 13, 10, 0
msg_old:   db " -> WRONG: stale code ran", 13, 10, 0
msg_orig:  db " (the original code)", 13, 10, 0
failures:  db 0

gdt:      dq 0
          dw 0xffff, 0x0000, 0x9200, 0x00cf     ; flat data: base 0, 4 GiB, writable
gdt_desc: dw 15
          dd gdt

times 510 - ($ - $$) db 0
dw 0xaa55

; ---------------------------------------------------------------------- sector 2 on
main:
    mov si, msg_title
    call puts

    ; unreal mode: load FS in protected mode with a 4 GiB limit and come back
    cli
    lgdt [gdt_desc]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    mov bx, 8
    mov fs, bx
    and al, 0xfe
    mov cr0, eax
    xor bx, bx
    mov fs, bx
    sti

    call find_dma
    test ebx, ebx
    jnz .found
    mov si, msg_nodma
    call puts
    cli
    hlt
.found:
    mov [dma], ebx
    mov si, msg_at
    call puts
    mov eax, ebx
    call puthex32
    mov si, [how]
    call puts

    ; 1. a routine that already ran, replaced under the CPU's feet
    call routine
    mov bx, 0x1111
    mov si, msg_1a
    mov di, msg_orig
    call report_as
    mov esi, routine_v2
    mov edi, routine
    mov ecx, routine_len
    call dma_copy
    call routine
    mov bx, 0x2222
    mov si, msg_1b
    call report

    ; 2. straight-line code the second pass overwrites just before running into it
    mov byte [pass], 0
again:
    cmp byte [pass], 0
    je tail
    mov esi, tail_v2
    mov edi, tail
    mov ecx, tail_len
    call dma_copy
tail:
    mov ax, 0x3333
    nop
    nop
tail_end:
    mov bx, 0x3333
    mov si, msg_2a
    mov di, msg_orig
    cmp byte [pass], 0
    je .rep
    mov bx, 0x4444
    mov si, msg_2b
    mov di, msg_new
.rep:
    call report_as
    inc byte [pass]
    cmp byte [pass], 2
    jb again

    mov si, msg_all
    cmp byte [failures], 0
    je .fine
    mov si, msg_some
.fine:
    call puts
    cli
    hlt

; EBX := the DMA engine's register base (0 if there is none); [how] := how it was found
find_dma:
    xor ecx, ecx                ; device 0..31 on bus 0, function 0
.dev:
    mov eax, ecx
    shl eax, 11
    or eax, 0x80000000
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    cmp eax, 0x10f01af4
    je .pci
    inc cx
    cmp cx, 32
    jb .dev
    mov ebx, DMA_FIXED          ; no PCI function: the documented address, if it answers
    cmp dword [fs:ebx + REG_ID], DMA_ID
    mov word [how], msg_fixed
    je .ok
    xor ebx, ebx
.ok:
    ret
.pci:
    mov [pcidev], cl
    mov eax, ecx
    shl eax, 11
    or eax, 0x80000010          ; BAR0
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    and eax, 0xfffffff0
    mov ebx, eax
    mov word [how], msg_pci
    mov al, [pcidev]
    add al, '0'                 ; devices 0..9 print as one digit
    mov [msg_pci_dev], al
    ret

; the engine copies ECX bytes from ESI to EDI (guest-physical), polled to completion
dma_copy:
    mov ebx, [dma]
    mov dword [fs:ebx + REG_STATUS], ST_DONE | ST_ERROR
    mov [fs:ebx + REG_SRC_LO], esi
    mov dword [fs:ebx + REG_SRC_HI], 0
    mov [fs:ebx + REG_DST_LO], edi
    mov dword [fs:ebx + REG_DST_HI], 0
    mov [fs:ebx + REG_LENGTH], ecx
    mov dword [fs:ebx + REG_CONTROL], CTRL_START
.wait:
    mov eax, [fs:ebx + REG_STATUS]
    test al, ST_DONE | ST_ERROR
    jz .wait
    test al, ST_ERROR
    jz .ok
    mov si, msg_dmaerr
    call puts
    cli
    hlt
.ok:
    ret

routine:
    mov ax, 0x1111
    ret
routine_len equ $ - routine
routine_v2:
    mov ax, 0x2222
    ret

tail_len equ tail_end - tail
tail_v2:                        ; same length, other instructions
    mov ah, 0x44
    mov al, ah
    nop

msg_title: db 13, 10, "The DMA engine copies code over the page the CPU is running", 13, 10, 13, 10, 0
msg_nodma: db "No DMA engine: not on PCI bus 0 (1AF4:10F0), nothing at FEB00000h", 13, 10, 0
msg_at:    db "DMA engine registers at ", 0
msg_pci:   db " (PCI BAR0 of 00:0"
msg_pci_dev: db "0.0)", 13, 10, 13, 10, 0
msg_fixed: db " (its fixed address; no PCI function found)", 13, 10, 13, 10, 0
msg_dmaerr: db 13, 10, "The DMA transfer failed (STATUS.ERROR)", 13, 10, 0
msg_1a: db "1. a routine, called once:                  AX = ", 0
msg_1b: db "   DMA copies a new one over it, called:    AX = ", 0
msg_2a: db "2. code after the transfer, first pass:     AX = ", 0
msg_2b: db "   DMA rewrote it, the CPU continued in:    AX = ", 0
msg_all:  db 13, 10, "The CPU ran the code the DMA engine wrote every time.", 13, 10, 0
msg_some: db 13, 10, "The CPU ran stale code after a DMA write.", 13, 10, 0

how:    dw 0
dma:    dd 0
pcidev: db 0
pass:   db 0

times 512 * (SECTORS + 1) - ($ - $$) db 0
