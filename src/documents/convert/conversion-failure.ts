/** Why a file was not turned into text; `status` is what the file list shows. */
export class ConversionFailure extends Error {
  override name = this.constructor.name;
  constructor(
    readonly status: 'failed' | 'no_text' | 'unsupported',
    message: string,
  ) {
    super(message);
  }
}
