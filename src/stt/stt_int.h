/* Private to src/stt/: the engines the chooser (stt.c) can pick. */
#ifndef CALLBRIDGE_STT_INT_H
#define CALLBRIDGE_STT_INT_H

#include "callbridge/stt.h"

extern const struct cb_stt_ops cb_stt_none;
#ifdef CB_HAVE_POCKETSPHINX
extern const struct cb_stt_ops cb_stt_offline; /* offline.c, built when PocketSphinx is found */
#endif

#endif
