/* SPDX-License-Identifier: BSD-2-Clause */
/* reader.h — what the pure core knows of a PC/SC reader: the bound on its name. The
 * pcsc-lite edge (drivers/pcsc.c) truncates longer names to it; every snapshot, event and
 * metric that carries a reader name uses this size. */
#ifndef CORE_READER_H
#define CORE_READER_H

/* Longest reader name kept, NUL included (pcsc-lite's own MAX_READERNAME is 128). */
#define READER_NAME_MAX	128

/* Why a card in a reader could not be read: the pcsc-lite edge says, the metrics count
 * (cardupd_card_read_errors_total{kind}). */
enum reader_error {
	READER_ERR_OTHER,	/* no thread or PC/SC context for the read */
	READER_ERR_CONNECT,	/* the card would not connect (mute, not powered) */
	READER_ERR_ATR,		/* no usable ATR or protocol */
	READER_ERR_TRANSMIT,	/* an APDU failed on the way (PC/SC error, reply without SW) */
	READER_ERR_ANSWER,	/* the card answered, but not as a PIV card does */
	READER_ERR_TIMEOUT,	/* no answer within CONFIG_PCSC_READ_TIMEOUT_MS */
	READER_ERR_KINDS
};

#endif
