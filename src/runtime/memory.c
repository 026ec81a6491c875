/*
 * memory.c - the actor's side of its memory cap (wasm only).
 *
 * The worker makes the actor's WebAssembly.Memory with a maximum (the
 * spawn's maxMemory); a memory.grow past it fails, emscripten's sbrk
 * returns (void *)-1 and malloc returns NULL, as C expects. ferry-build
 * links with -Wl,--wrap=sbrk so that every sbrk the allocator makes comes
 * here first: a refusal is reported to the glue, which can then tell an
 * actor that traps after running out of memory (ENOMEM) from one that
 * traps for another reason. C code that checks for NULL carries on.
 */
#include <stdint.h>

#include "imports.h"

void *__real_sbrk(intptr_t increment);
void *__wrap_sbrk(intptr_t increment);

void *__wrap_sbrk(intptr_t increment) {
    void *p = __real_sbrk(increment);
    if (p == (void *)-1)
        fy_oom((double)increment);
    return p;
}
