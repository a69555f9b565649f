// A small C layer over libjpeg-turbo. libjpeg reports fatal errors by calling error_exit, whose default
// calls exit(); here it longjmps back into the CJPEG_ function that set the jump buffer, so a longjmp
// never crosses a Swift frame. Warnings are recorded instead of printed, and those that mean the pixels
// are damaged turn into an error status.
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "CJPEG.h"

struct CJPEG_decoder {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr err;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    int32_t max_scans;
    int status_on_jump;
    int fatal_warning;
    int header_read;
    int started;
    int broken;
    char message[JMSG_LENGTH_MAX + 64];
};

static CJPEG_decoder *decoder_of(j_common_ptr cinfo) {
    return (CJPEG_decoder *)cinfo->client_data;
}

static void on_error_exit(j_common_ptr cinfo) {
    CJPEG_decoder *decoder = decoder_of(cinfo);
    // Data that ends early makes libjpeg fail later with a vaguer error ("no image"): report the cause.
    if (decoder->fatal_warning == CJPEG_TRUNCATED) {
        decoder->status_on_jump = CJPEG_TRUNCATED;
        longjmp(decoder->jump, 1);
    }
    cinfo->err->format_message(cinfo, decoder->message);
    decoder->status_on_jump = (cinfo->err->msg_code == JERR_OUT_OF_MEMORY) ? CJPEG_NO_MEMORY : CJPEG_ERROR;
    longjmp(decoder->jump, 1);
}

static void on_output_message(j_common_ptr cinfo) {
    (void)cinfo;  // Never print: the caller gets messages through CJPEG_decoder_message.
}

// Warnings whose presence means the decoded pixels are not what the encoder wrote.
static int warning_status(int code) {
    switch (code) {
    case JWRN_JPEG_EOF:
        return CJPEG_TRUNCATED;
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION:
    case JWRN_BOGUS_ICC:
        return CJPEG_CORRUPT;
    default:
        return CJPEG_OK;
    }
}

static void on_emit_message(j_common_ptr cinfo, int level) {
    CJPEG_decoder *decoder = decoder_of(cinfo);
    if (level >= 0) return;  // trace messages
    cinfo->err->num_warnings++;
    int status = warning_status(cinfo->err->msg_code);
    if (status != CJPEG_OK && decoder->fatal_warning == CJPEG_OK) {
        decoder->fatal_warning = status;
        cinfo->err->format_message(cinfo, decoder->message);
    }
}

// Progressive images can carry thousands of tiny scans that make decoding arbitrarily slow.
static void on_progress(j_common_ptr cinfo) {
    CJPEG_decoder *decoder = decoder_of(cinfo);
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr dinfo = (j_decompress_ptr)cinfo;
    if (dinfo->progressive_mode && dinfo->input_scan_number > decoder->max_scans) {
        snprintf(decoder->message, sizeof decoder->message, "progressive JPEG has more than %d scans",
                 (int)decoder->max_scans);
        decoder->status_on_jump = CJPEG_TOO_MANY_SCANS;
        longjmp(decoder->jump, 1);
    }
}

CJPEG_decoder *CJPEG_decoder_create(int32_t max_scans, int64_t max_memory_bytes) {
    CJPEG_decoder *decoder = calloc(1, sizeof *decoder);
    if (decoder == NULL) return NULL;
    decoder->max_scans = max_scans > 0 ? max_scans : 1;
    decoder->cinfo.err = jpeg_std_error(&decoder->err);
    decoder->err.error_exit = on_error_exit;
    decoder->err.output_message = on_output_message;
    decoder->err.emit_message = on_emit_message;
    decoder->cinfo.client_data = decoder;
    if (setjmp(decoder->jump)) {
        jpeg_destroy_decompress(&decoder->cinfo);
        free(decoder);
        return NULL;
    }
    jpeg_create_decompress(&decoder->cinfo);
    if (max_memory_bytes > 0) decoder->cinfo.mem->max_memory_to_use = (long)max_memory_bytes;
    decoder->progress.progress_monitor = on_progress;
    decoder->cinfo.progress = &decoder->progress;
    return decoder;
}

void CJPEG_decoder_destroy(CJPEG_decoder *decoder) {
    if (decoder == NULL) return;
    jpeg_destroy_decompress(&decoder->cinfo);
    free(decoder);
}


const char *CJPEG_decoder_message(const CJPEG_decoder *decoder) {
    return decoder == NULL ? "no decoder" : decoder->message;
}

static int misuse(CJPEG_decoder *decoder, const char *what) {
    snprintf(decoder->message, sizeof decoder->message, "%s", what);
    return CJPEG_MISUSE;
}

static int fail(CJPEG_decoder *decoder, int status) {
    decoder->broken = 1;
    jpeg_abort_decompress(&decoder->cinfo);
    return status;
}

static int32_t color_space_code(J_COLOR_SPACE space) {
    switch (space) {
    case JCS_GRAYSCALE: return CJPEG_COLOR_GRAYSCALE;
    case JCS_RGB: return CJPEG_COLOR_RGB;
    case JCS_YCbCr: return CJPEG_COLOR_YCBCR;
    case JCS_CMYK: return CJPEG_COLOR_CMYK;
    case JCS_YCCK: return CJPEG_COLOR_YCCK;
    default: return CJPEG_COLOR_UNKNOWN;
    }
}

static void fill_header(const struct jpeg_decompress_struct *cinfo, CJPEG_header *header) {
    memset(header, 0, sizeof *header);
    header->width = cinfo->image_width;
    header->height = cinfo->image_height;
    header->components = cinfo->num_components;
    header->color_space = color_space_code(cinfo->jpeg_color_space);
    header->progressive = cinfo->progressive_mode ? 1 : 0;
    header->arithmetic = cinfo->arith_code ? 1 : 0;
    header->restart_interval = (int32_t)cinfo->restart_interval;
    header->saw_adobe_marker = cinfo->saw_Adobe_marker ? 1 : 0;
    header->saw_jfif_marker = cinfo->saw_JFIF_marker ? 1 : 0;
    for (int i = 0; i < cinfo->num_components && i < 4; i++) {
        header->h_samp[i] = cinfo->comp_info[i].h_samp_factor;
        header->v_samp[i] = cinfo->comp_info[i].v_samp_factor;
    }
}

int CJPEG_decoder_read_header(CJPEG_decoder *decoder, const uint8_t *data, size_t size, CJPEG_header *header) {
    if (decoder == NULL || data == NULL || header == NULL) return CJPEG_MISUSE;
    if (decoder->header_read || decoder->broken) return misuse(decoder, "decoder already used");
    if (setjmp(decoder->jump)) return fail(decoder, decoder->status_on_jump);
    jpeg_mem_src(&decoder->cinfo, data, (unsigned long)size);
    if (jpeg_read_header(&decoder->cinfo, TRUE) != JPEG_HEADER_OK) {
        return fail(decoder, misuse(decoder, "no image in the JPEG data"));
    }
    if (decoder->fatal_warning != CJPEG_OK) return fail(decoder, decoder->fatal_warning);
    decoder->header_read = 1;
    fill_header(&decoder->cinfo, header);
    return CJPEG_OK;
}

int CJPEG_decoder_set_scale(CJPEG_decoder *decoder, uint32_t scale_num, uint32_t *width, uint32_t *height) {
    if (decoder == NULL || width == NULL || height == NULL) return CJPEG_MISUSE;
    if (!decoder->header_read || decoder->started || decoder->broken) return misuse(decoder, "no header to scale");
    if (scale_num < 1 || scale_num > 16) return misuse(decoder, "scale must be 1/8 to 16/8");
    if (setjmp(decoder->jump)) return fail(decoder, decoder->status_on_jump);
    decoder->cinfo.scale_num = scale_num;
    decoder->cinfo.scale_denom = 8;
    jpeg_calc_output_dimensions(&decoder->cinfo);
    *width = decoder->cinfo.output_width;
    *height = decoder->cinfo.output_height;
    return CJPEG_OK;
}

int CJPEG_decoder_output_size(CJPEG_decoder *decoder, uint32_t *width, uint32_t *height) {
    if (decoder == NULL || width == NULL || height == NULL) return CJPEG_MISUSE;
    if (!decoder->header_read || decoder->started || decoder->broken) return misuse(decoder, "no header");
    if (setjmp(decoder->jump)) return fail(decoder, decoder->status_on_jump);
    jpeg_calc_output_dimensions(&decoder->cinfo);
    *width = decoder->cinfo.output_width;
    *height = decoder->cinfo.output_height;
    return CJPEG_OK;
}

static J_COLOR_SPACE output_space_for(J_COLOR_SPACE input) {
    return (input == JCS_CMYK || input == JCS_YCCK) ? JCS_CMYK : JCS_RGB;
}

// Adobe's CMYK JPEGs store inverted ink values (Photoshop writes 255 for no ink), as every major decoder
// assumes when the Adobe marker is present.
static void cmyk_row_to_rgb(const JSAMPLE *cmyk, uint8_t *rgb, JDIMENSION width, int inverted) {
    for (JDIMENSION x = 0; x < width; x++) {
        unsigned c = cmyk[4 * x], m = cmyk[4 * x + 1], y = cmyk[4 * x + 2], k = cmyk[4 * x + 3];
        if (!inverted) {
            c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k;
        }
        rgb[3 * x] = (uint8_t)((c * k + 127) / 255);
        rgb[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
        rgb[3 * x + 2] = (uint8_t)((y * k + 127) / 255);
    }
}

static void read_rows(CJPEG_decoder *decoder, uint8_t *pixels, JSAMPARRAY cmyk_row) {
    struct jpeg_decompress_struct *cinfo = &decoder->cinfo;
    size_t stride = (size_t)cinfo->output_width * 3;
    int inverted = cinfo->saw_Adobe_marker;
    while (cinfo->output_scanline < cinfo->output_height) {
        uint8_t *row = pixels + (size_t)cinfo->output_scanline * stride;
        if (cmyk_row != NULL) {
            if (jpeg_read_scanlines(cinfo, cmyk_row, 1) == 1) {
                cmyk_row_to_rgb(cmyk_row[0], row, cinfo->output_width, inverted);
            }
        } else {
            JSAMPROW rows[1] = {row};
            jpeg_read_scanlines(cinfo, rows, 1);
        }
    }
}

int CJPEG_decoder_decode_rgb(CJPEG_decoder *decoder, uint8_t *pixels, size_t capacity) {
    if (decoder == NULL || pixels == NULL) return CJPEG_MISUSE;
    if (!decoder->header_read || decoder->started || decoder->broken) return misuse(decoder, "nothing to decode");
    if (setjmp(decoder->jump)) return fail(decoder, decoder->status_on_jump);
    struct jpeg_decompress_struct *cinfo = &decoder->cinfo;
    cinfo->out_color_space = output_space_for(cinfo->jpeg_color_space);
    jpeg_calc_output_dimensions(cinfo);
    if ((size_t)cinfo->output_width * cinfo->output_height * 3 > capacity) {
        return fail(decoder, misuse(decoder, "output buffer too small"));
    }
    decoder->started = 1;
    jpeg_start_decompress(cinfo);
    JSAMPARRAY cmyk_row = NULL;
    if (cinfo->out_color_space == JCS_CMYK) {
        cmyk_row = (*cinfo->mem->alloc_sarray)((j_common_ptr)cinfo, JPOOL_IMAGE, cinfo->output_width * 4, 1);
    }
    read_rows(decoder, pixels, cmyk_row);
    jpeg_finish_decompress(cinfo);
    if (decoder->fatal_warning != CJPEG_OK) return fail(decoder, decoder->fatal_warning);
    return CJPEG_OK;
}

// Decodes only a rectangle of the output image: libjpeg-turbo skips the rows above it (entropy decoding only,
// no inverse DCT or colour conversion) and crops each row to the iMCU columns that cover it, then the decode is
// abandoned below the rectangle. The rows written start at the column *out_x (at most x) and are *out_width wide.
int CJPEG_decoder_decode_region_rgb(CJPEG_decoder *decoder, uint32_t x, uint32_t y, uint32_t width, uint32_t height,
                                    uint8_t *pixels, size_t capacity, uint32_t *out_x, uint32_t *out_width) {
    if (decoder == NULL || pixels == NULL || out_x == NULL || out_width == NULL) return CJPEG_MISUSE;
    if (!decoder->header_read || decoder->started || decoder->broken) return misuse(decoder, "nothing to decode");
    if (setjmp(decoder->jump)) return fail(decoder, decoder->status_on_jump);
    struct jpeg_decompress_struct *cinfo = &decoder->cinfo;
    cinfo->out_color_space = output_space_for(cinfo->jpeg_color_space);
    jpeg_calc_output_dimensions(cinfo);
    if (width == 0 || height == 0 || x >= cinfo->output_width || y >= cinfo->output_height ||
        width > cinfo->output_width - x || height > cinfo->output_height - y) {
        return fail(decoder, misuse(decoder, "region outside the image"));
    }
    decoder->started = 1;
    jpeg_start_decompress(cinfo);
    JDIMENSION column = x, columns = width;
    jpeg_crop_scanline(cinfo, &column, &columns);
    if ((size_t)columns * height * 3 > capacity) return fail(decoder, misuse(decoder, "output buffer too small"));
    if (y > 0) jpeg_skip_scanlines(cinfo, y);
    JSAMPARRAY cmyk_row = NULL;
    if (cinfo->out_color_space == JCS_CMYK) {
        cmyk_row = (*cinfo->mem->alloc_sarray)((j_common_ptr)cinfo, JPOOL_IMAGE, columns * 4, 1);
    }
    int inverted = cinfo->saw_Adobe_marker;
    for (uint32_t row = 0; row < height; row++) {
        uint8_t *out = pixels + (size_t)row * columns * 3;
        if (cmyk_row != NULL) {
            if (jpeg_read_scanlines(cinfo, cmyk_row, 1) == 1) cmyk_row_to_rgb(cmyk_row[0], out, columns, inverted);
        } else {
            JSAMPROW rows[1] = {out};
            jpeg_read_scanlines(cinfo, rows, 1);
        }
    }
    jpeg_abort_decompress(cinfo);
    *out_x = column;
    *out_width = columns;
    if (decoder->fatal_warning != CJPEG_OK) return fail(decoder, decoder->fatal_warning);
    return CJPEG_OK;
}

// Encoding (thumbnails): the same longjmp discipline as decoding, with its own small error manager.
typedef struct {
    struct jpeg_error_mgr err;
    jmp_buf jump;
    char *message;
    int status;
} encoder_error;

static void on_encode_error(j_common_ptr cinfo) {
    encoder_error *error = (encoder_error *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, text);
    snprintf(error->message, 256, "%s", text);
    error->status = (cinfo->err->msg_code == JERR_OUT_OF_MEMORY) ? CJPEG_NO_MEMORY : CJPEG_ERROR;
    longjmp(error->jump, 1);
}

int CJPEG_encode_rgb(const uint8_t *pixels, uint32_t width, uint32_t height, int quality, uint8_t **out,
                     unsigned long *size, char *message) {
    struct jpeg_compress_struct cinfo;
    encoder_error error;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&error.err);
    error.err.error_exit = on_encode_error;
    error.err.output_message = on_output_message;
    error.message = message;
    error.status = CJPEG_OK;
    message[0] = 0;
    *out = NULL;
    *size = 0;
    if (width == 0 || height == 0 || width > 65500 || height > 65500 || quality < 1 || quality > 100) {
        snprintf(message, 256, "cannot encode a %ux%u image at quality %d", width, height, quality);
        return CJPEG_ERROR;
    }
    // Our own output buffer, larger than any baseline JPEG of this image can be (the raw pixels plus headers
    // and tables), so libjpeg never replaces it with one of its own and the error path can always free it.
    unsigned long capacity = (unsigned long)width * height * 3 + 65536;
    unsigned char *own = malloc(capacity);
    if (own == NULL) {
        snprintf(message, 256, "cannot allocate %lu bytes for a JPEG", capacity);
        return CJPEG_NO_MEMORY;
    }
    // Read after a longjmp out of libjpeg: volatile, so they are not cached in registers.
    unsigned char *volatile buffer = own;
    unsigned char *memory = own;
    unsigned long memory_size = capacity;
    if (setjmp(error.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return error.status;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &memory, &memory_size);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * width * 3);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    if (memory != own) free(own);  // not expected: libjpeg grew the buffer and owns the new one
    *out = memory;
    *size = memory_size;
    return CJPEG_OK;
}

void CJPEG_free(void *buffer) {
    free(buffer);
}
