/** The token gauge: context size now / the summarization threshold / the model's window. */

export class TokenGauge {
  constructor(
    private readonly meter: HTMLMeterElement,
    private readonly label: HTMLElement,
  ) {}

  show(current: number, threshold: number, window: number): void {
    this.meter.max = Math.max(1, window);
    this.meter.high = threshold;
    this.meter.optimum = 0;
    this.meter.value = Math.min(current, window);
    const n = (x: number) => x.toLocaleString('en-US');
    this.label.textContent = `${n(current)} / ${n(threshold)} / ${n(window)} tokens`;
    this.meter.title = `Context: ${n(current)} tokens. Summarized above ${n(threshold)}. Model window ${n(window)}.`;
    this.meter.parentElement?.setAttribute('data-current', String(current));
  }
}
