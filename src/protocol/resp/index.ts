/** The RESP wire codec (pure, no sockets): the server's request decoder and reply writer. */
export { RequestDecoder, RespProtocolError, DEFAULT_REQUEST_DECODER_LIMITS, UNAUTHENTICATED_LIMITS, resolveRequestDecoderLimits, splitInline, type RequestDecoderLimits } from './request-decoder.js';
export { ReplyWriter, splitReplies, REPLY_OK, REPLY_PONG, REPLY_ZERO, REPLY_ONE, REPLY_EMPTY_ARRAY } from './reply-writer.js';
