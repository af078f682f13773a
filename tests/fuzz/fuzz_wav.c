/* RIFF/WAVE parsing for speech-to-text (src/stt/audio.c): uploaded recordings and Twilio's are
 * read by the OpenAI and Google engines, which cut them into standalone WAV chunks and convert
 * samples to 16-bit mono. Input: the file. Properties: the data found lies inside the file in
 * whole frames; a plan covers the data exactly, in order, in whole frames; every chunk read
 * as a standalone file parses back to the same format with exactly its slice of the data; the
 * sample conversion reads only the frames it is given (ASan). */
#include "fuzz.h"
#include "audio.h"

struct mem {
        const uint8_t *p;
        size_t n;
};

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
        const struct mem *m = ctx;

        if (off > m->n || len > m->n - off)
                return -1;
        if (len > 0)
                memcpy(buf, m->p + off, len);
        return 0;
}

/* Read chunk `c` as a standalone WAV file and check it against the source. */
static void check_chunk(const struct cb_stt_audio *a, const struct cb_wav_info *w,
                        const struct cb_wav_chunk *c)
{
        size_t len = CB_WAV_HEADER_LEN + (size_t)c->len;
        uint8_t *file = malloc(len);
        struct mem m = {file, len};
        struct cb_stt_audio sub = {.size = len, .read_at = mem_read, .ctx = &m};
        struct cb_wav_info back;
        char err[128];

        FUZZ_CHECK(file != NULL);
        /* In two reads split inside the header, as a streaming upload reads it. */
        FUZZ_CHECK(cb_wav_chunk_read(a, w, c, 0, file, 7) == 0);
        FUZZ_CHECK(cb_wav_chunk_read(a, w, c, 7, file + 7, len - 7) == 0);
        FUZZ_CHECK(cb_wav_chunk_read(a, w, c, 0, file, len + 1) != 0);
        if (cb_wav_parse(&sub, &back, err, sizeof(err)) != 0) {
                fprintf(stderr, "a chunk does not parse: %s (format %u)\n", err, w->format);
                FUZZ_CHECK(!"every chunk is a WAV file");
        }
        FUZZ_CHECK(back.format == w->format && back.channels == w->channels &&
                   back.sample_rate == w->sample_rate && back.bits == w->bits &&
                   back.block_align == w->block_align);
        FUZZ_CHECK(back.data_off == CB_WAV_HEADER_LEN && back.data_len == c->len);
        FUZZ_CHECK(c->len == 0 || memcmp(file + CB_WAV_HEADER_LEN,
                                         ((const struct mem *)a->ctx)->p + w->data_off + c->off,
                                         (size_t)c->len) == 0);
        free(file);
}

static void check_plan(const struct cb_stt_audio *a, const struct cb_wav_info *w, uint64_t max_data)
{
        struct cb_wav_chunk *chunks = NULL;
        size_t n = cb_wav_plan(w, max_data, &chunks);
        uint64_t next = 0;

        FUZZ_CHECK(n > 0 || w->data_len == 0);
        for (size_t i = 0; i < n && i < 64; i++) {
                FUZZ_CHECK(chunks[i].off == next && chunks[i].len > 0);
                FUZZ_CHECK(chunks[i].len % w->block_align == 0);
                next += chunks[i].len;
                check_chunk(a, w, &chunks[i]);
        }
        if (n <= 64)
                FUZZ_CHECK(next == w->data_len);
        free(chunks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mem m = {data, size};
        struct cb_stt_audio a = {
            .content_type = "audio/wav", .size = size, .read_at = mem_read, .ctx = &m};
        struct cb_wav_info w;
        char err[128] = "";
        size_t frames;
        int16_t *pcm;

        if (cb_wav_parse(&a, &w, err, sizeof(err)) != 0) {
                FUZZ_CHECK(err[0] != '\0');
                return 0;
        }
        FUZZ_CHECK(w.channels > 0 && w.sample_rate > 0 && w.block_align > 0 && w.bits > 0);
        FUZZ_CHECK(w.data_off <= size && w.data_len <= size - w.data_off);
        FUZZ_CHECK(w.data_len % w.block_align == 0);
        (void)cb_wav_duration(&w);
        check_plan(&a, &w, 1);
        check_plan(&a, &w, (uint64_t)w.block_align * 3 + 1);
        check_plan(&a, &w, w.data_len / 2 + 1);
        /* The conversion, as the Google engine runs it, on exactly the frames there are. */
        frames = (size_t)(w.data_len / w.block_align);
        pcm = malloc(frames * sizeof(*pcm) + 1);
        FUZZ_CHECK(pcm != NULL);
        (void)cb_wav_to_s16_mono(&w, data + w.data_off, frames, pcm);
        free(pcm);
        return 0;
}
