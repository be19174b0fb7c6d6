/* reader.h — what the pure core knows of a PC/SC reader: the bound on its name. The
 * pcsc-lite edge (drivers/pcsc.c) truncates longer names to it; every snapshot, event and
 * metric that carries a reader name uses this size. */
#ifndef CORE_READER_H
#define CORE_READER_H

/* Longest reader name kept, NUL included (pcsc-lite's own MAX_READERNAME is 128). */
#define READER_NAME_MAX	128

#endif
