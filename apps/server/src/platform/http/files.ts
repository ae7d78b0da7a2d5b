import type { FastifyReply } from 'fastify';

/**
 * Media types a browser may show inline from an upload: none of them runs script in the page's
 * origin. Anything else is sent as a download.
 */
const INLINE_TYPES = new Set(['audio/mpeg', 'audio/wav', 'audio/x-wav', 'audio/ogg', 'audio/webm', 'audio/amr', 'audio/mp4', 'audio/aac', 'image/jpeg', 'image/png', 'image/webp', 'application/pdf']);

/**
 * Serve a file someone uploaded (call audio, a team member's photo, a signed agreement) so that it
 * can never act as a page of this site, whatever its bytes are: the type is the stored one only if
 * it is a known safe media type (else application/octet-stream), the browser may not sniff another
 * (nosniff), a document opened directly is sandboxed with no script (CSP), and anything not safe to
 * show inline is an attachment.
 */
export function sendStoredFile(reply: FastifyReply, file: { data: Buffer | Uint8Array; type: string | null; name?: string | null }) {
  const type = (file.type ?? '').split(';')[0]!.trim().toLowerCase();
  const inline = INLINE_TYPES.has(type);
  const filename = file.name ? `; filename*=UTF-8''${encodeURIComponent(file.name)}` : '';
  reply
    .type(inline ? type : 'application/octet-stream')
    .header('x-content-type-options', 'nosniff')
    .header('content-disposition', `${inline ? 'inline' : 'attachment'}${filename}`);
  // A PDF keeps the site's policy (a sandbox would stop the browser's own viewer); anything else opened
  // on its own is a sandboxed document that loads nothing.
  if (type !== 'application/pdf') reply.header('content-security-policy', "default-src 'none'; img-src 'self'; media-src 'self'; sandbox");
  return reply.send(Buffer.from(file.data));
}
