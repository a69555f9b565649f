#ifndef CJPEG_H
#define CJPEG_H

#include <stddef.h>
#include <stdint.h>

/// Status codes returned by every CJPEG_ function.
enum {
    CJPEG_OK = 0,
    /// libjpeg raised a fatal error; the decoder's message says which.
    CJPEG_ERROR = 1,
    /// The data ended before the image did (libjpeg's "premature end" warning).
    CJPEG_TRUNCATED = 2,
    /// The entropy-coded data is damaged (libjpeg's corrupt-data warnings).
    CJPEG_CORRUPT = 3,
    /// A progressive image has more scans than allowed (a CPU-exhaustion guard).
    CJPEG_TOO_MANY_SCANS = 4,
    /// The call is not valid in the decoder's state, or a buffer is too small.
    CJPEG_MISUSE = 5,
    /// Memory could not be allocated.
    CJPEG_NO_MEMORY = 6,
};

/// Colour spaces of the compressed data, as libjpeg names them.
enum {
    CJPEG_COLOR_UNKNOWN = 0,
    CJPEG_COLOR_GRAYSCALE = 1,
    CJPEG_COLOR_RGB = 2,
    CJPEG_COLOR_YCBCR = 3,
    CJPEG_COLOR_CMYK = 4,
    CJPEG_COLOR_YCCK = 5,
};

/// What the frame header says about an image.
typedef struct {
    uint32_t width;
    uint32_t height;
    int32_t components;
    int32_t color_space;
    int32_t progressive;
    int32_t arithmetic;
    int32_t restart_interval;
    int32_t h_samp[4];
    int32_t v_samp[4];
    int32_t saw_adobe_marker;
    int32_t saw_jfif_marker;
} CJPEG_header;

typedef struct CJPEG_decoder CJPEG_decoder;

/// Creates a decoder; NULL when memory is exhausted.
CJPEG_decoder *CJPEG_decoder_create(int32_t max_scans, int64_t max_memory_bytes);
void CJPEG_decoder_destroy(CJPEG_decoder *decoder);

/// Reads the headers of the JPEG in `data` (which must outlive the decoder's use of it).
int CJPEG_decoder_read_header(CJPEG_decoder *decoder, const uint8_t *data, size_t size, CJPEG_header *header);

/// Chooses DCT-domain scaling (scale_num/8, scale_num in 1...16) and reports the output size.
int CJPEG_decoder_set_scale(CJPEG_decoder *decoder, uint32_t scale_num, uint32_t *width, uint32_t *height);

/// Reports the output size at the scale currently set.
int CJPEG_decoder_output_size(CJPEG_decoder *decoder, uint32_t *width, uint32_t *height);

/// Decodes the whole image as packed 8-bit RGB rows into `pixels` (width * height * 3 bytes).
int CJPEG_decoder_decode_rgb(CJPEG_decoder *decoder, uint8_t *pixels, size_t capacity);

/// Decodes the rectangle (x, y, width, height) of the output image (at the scale set) as packed 8-bit RGB rows.
/// The rows start at column *out_x <= x and are *out_width >= width wide (libjpeg crops at iMCU boundaries);
/// `capacity` must hold (width + 64) * height * 3 bytes.
int CJPEG_decoder_decode_region_rgb(CJPEG_decoder *decoder, uint32_t x, uint32_t y, uint32_t width, uint32_t height,
                                    uint8_t *pixels, size_t capacity, uint32_t *out_x, uint32_t *out_width);

/// The text of the last error or fatal warning, never NULL.
const char *CJPEG_decoder_message(const CJPEG_decoder *decoder);

/// Encodes 8-bit RGB pixels (rows top to bottom, no padding) as a baseline JPEG at `quality` (1...100).
/// On success returns CJPEG_OK and sets *out (free it with CJPEG_free) and *size; on failure returns
/// CJPEG_ERROR or CJPEG_NO_MEMORY with the reason in `message` (at least 256 bytes).
int CJPEG_encode_rgb(const uint8_t *pixels, uint32_t width, uint32_t height, int quality, uint8_t **out,
                     unsigned long *size, char *message);

/// Frees a buffer CJPEG_encode_rgb returned.
void CJPEG_free(void *buffer);

#endif
