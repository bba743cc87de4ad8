/** Uploads one file as multipart/form-data, the way the web client does. */
export async function uploadFile(baseUrl: string, url: string, name: string, bytes: Uint8Array, token?: string) {
  const form = new FormData();
  form.append('file', new Blob([Buffer.from(bytes)]), name);
  const res = await fetch(`${baseUrl}/api/v1${url}`, { method: 'POST', body: form, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
