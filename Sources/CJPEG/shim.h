// libjpeg-turbo (libjpeg62 API) for the Imaging module's JPEG decoder.
//
// libjpeg reports errors by calling `err->error_exit`, whose default prints and calls exit(). Swift
// cannot call setjmp safely, so every libjpeg call that can fail runs inside one of the static inline
// functions below: each sets a jmp_buf, and the error manager installed here longjmps back to it,
// so a corrupt file becomes a return value of -1 with the message in `pdpo_jpeg.message`, never an exit.
// Warnings (libjpeg's `emit_message` with level -1, e.g. "Premature end of JPEG file" for a truncated
// file, "Corrupt JPEG data: ...") are treated as errors too: libjpeg would otherwise fill the missing
// rows with gray and report success.
// Swift only allocates the struct (pdpo_jpeg_create), reads its fields, and frees it.
#ifndef PDPO_CJPEG_SHIM_H
#define PDPO_CJPEG_SHIM_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>

typedef struct pdpo_jpeg {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr err;
    jmp_buf jump;
    int created;                        // jpeg_create_decompress ran: destroy must run
    char message[JMSG_LENGTH_MAX];      // the last error, as libjpeg formats it
} pdpo_jpeg;

// error_exit: format the message and jump back to the shim function that made the failing call.
static void pdpo_jpeg_error_exit(j_common_ptr cinfo) {
    pdpo_jpeg *self = (pdpo_jpeg *)cinfo->client_data;
    (*cinfo->err->format_message)(cinfo, self->message);
    longjmp(self->jump, 1);
}

// emit_message: level -1 is a warning (corrupt or truncated data); treat it as an error. Trace
// messages (level >= 0) are dropped, as the default handler does at trace_level 0.
static void pdpo_jpeg_emit_message(j_common_ptr cinfo, int msg_level) {
    if (msg_level < 0) pdpo_jpeg_error_exit(cinfo);
}

static inline pdpo_jpeg *pdpo_jpeg_create(void) {
    pdpo_jpeg *self = (pdpo_jpeg *)calloc(1, sizeof(pdpo_jpeg));
    return self;
}

// Reads the header of `data` (which must outlive the decoder) and chooses the output colour space:
// CMYK and YCCK files give 4-channel CMYK (converted to RGB by the caller), everything else
// (gray, YCbCr, RGB) 3-channel RGB through libjpeg-turbo's JCS_EXT_RGB. Output dimensions are
// computed (no allocation of image-sized buffers happens here). Returns 0, or -1 with `message` set.
static inline int pdpo_jpeg_read_header(pdpo_jpeg *self, const unsigned char *data, unsigned long size) {
    self->cinfo.err = jpeg_std_error(&self->err);
    self->err.error_exit = pdpo_jpeg_error_exit;
    self->err.emit_message = pdpo_jpeg_emit_message;
    self->cinfo.client_data = self;
    if (setjmp(self->jump)) return -1;
    jpeg_create_decompress(&self->cinfo);
    self->created = 1;
    jpeg_mem_src(&self->cinfo, data, size);
    jpeg_read_header(&self->cinfo, TRUE);
    J_COLOR_SPACE in = self->cinfo.jpeg_color_space;
    self->cinfo.out_color_space = (in == JCS_CMYK || in == JCS_YCCK) ? JCS_CMYK : JCS_EXT_RGB;
    jpeg_calc_output_dimensions(&self->cinfo);
    return 0;
}

// Decodes every scanline into `out` (output_height rows of `stride` bytes, output_components
// samples a pixel). Returns 0, or -1 with `message` set.
static inline int pdpo_jpeg_decode(pdpo_jpeg *self, unsigned char *out, size_t stride) {
    if (setjmp(self->jump)) return -1;
    jpeg_start_decompress(&self->cinfo);
    while (self->cinfo.output_scanline < self->cinfo.output_height) {
        JSAMPROW row = out + (size_t)self->cinfo.output_scanline * stride;
        jpeg_read_scanlines(&self->cinfo, &row, 1);
    }
    jpeg_finish_decompress(&self->cinfo);
    return 0;
}

static inline void pdpo_jpeg_destroy(pdpo_jpeg *self) {
    if (self == NULL) return;
    if (self->created) jpeg_destroy_decompress(&self->cinfo);
    free(self);
}

#endif
