/** All of stdin, refused past maxBytes (a secret, a public key: never a stream to hold whole). */
export async function readAllStdin(maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > maxBytes) throw new Error(`more than ${maxBytes} bytes on stdin`);
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}
