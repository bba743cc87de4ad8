import { describe, expect, it } from 'vitest';
import { modelCapability } from '../../src/llm/model-capabilities.js';
import { renderItem } from '../../src/context/summarizer.js';
import { userItemWithAttachments } from '../../src/chat/attachments.js';
import { countItems } from '../../src/context/tokens.js';
import { loadConfig } from '../../src/config/config.js';

describe('which models see images', () => {
  it.each([
    ['gpt-4o-mini', 'vision'],
    ['gpt-4.1-nano', 'vision'],
    ['gpt-5', 'vision'],
    ['o3-mini', 'vision'],
    ['o4-mini', 'vision'],
    ['o1', 'vision'],
    ['gpt-3.5-turbo', 'text'],
    ['gpt-4', 'text'],
    ['gpt-4-0613', 'text'],
    ['openai/gpt-3.5-turbo', 'text'],
    ['llama3.2-vision', 'vision'],
  ])('%s reads %s by the built-in table', (model, capability) => {
    expect(modelCapability(model, {})).toBe(capability);
  });

  it('MODEL_CAPABILITIES wins over the table and unknown models', () => {
    const { capabilities } = loadConfig({ MODEL_CAPABILITIES: 'gpt-4o=text, llama3=text,llava=vision' }).llm;
    expect(capabilities).toEqual({ 'gpt-4o': 'text', llama3: 'text', llava: 'vision' });
    expect(modelCapability('gpt-4o', capabilities)).toBe('text');
    expect(modelCapability('llama3', capabilities)).toBe('text');
    expect(() => loadConfig({ MODEL_CAPABILITIES: 'gpt-4o=eyes' })).toThrow(/name=text,name=vision/);
    expect(loadConfig({}).llm.imageMaxEdge).toBe(2048);
  });
});

describe('an image in the context', () => {
  const dataUrl = `data:image/png;base64,${'A'.repeat(40_000)}`;
  const item = userItemWithAttachments('What is this?', {
    stored: [{ file: 'input/photo.png', content_type: 'image/png', size: 30_000 }],
    images: [{ file: 'input/photo.png', dataUrl, contentType: 'image/png', width: 10, height: 10 }],
  });

  it('a summary request shows a short marker, never the image bytes', () => {
    const text = renderItem(item);
    expect(text).toContain('What is this?');
    expect(text).toContain('[image: input/photo.png]');
    expect(text).not.toContain('AAAA');
    expect(text.length).toBeLessThan(100);
  });

  it('counts as a fixed 85 tokens, whatever the size of its data URL', () => {
    const withImage = countItems('gpt-4o', [item]);
    const textOnly = countItems('gpt-4o', [userItemWithAttachments('What is this?', { stored: [], images: [] })]);
    expect(withImage - textOnly).toBeGreaterThanOrEqual(85);
    expect(withImage - textOnly).toBeLessThan(100);
  });
});
