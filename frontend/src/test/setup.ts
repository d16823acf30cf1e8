// Test environment: jest-dom matchers plus the few browser APIs that jsdom
// lacks and @grafana/ui touches at import or render time (the same set
// @grafana/create-plugin's jest setup provides).
import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterEach, vi } from 'vitest';

Object.defineProperty(window, 'matchMedia', {
  writable: true,
  value: vi.fn().mockImplementation((query: string) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: vi.fn(),
    removeListener: vi.fn(),
    addEventListener: vi.fn(),
    removeEventListener: vi.fn(),
    dispatchEvent: vi.fn(),
  })),
});

class NoopObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
  takeRecords() {
    return [];
  }
}
Object.assign(window, { ResizeObserver: NoopObserver, IntersectionObserver: NoopObserver });

// uPlot and other canvas users only probe for a context.
HTMLCanvasElement.prototype.getContext = (() => null) as unknown as HTMLCanvasElement['getContext'];

afterEach(() => cleanup());

// Icons load their SVG over HTTP in the browser; in tests render a bare <svg>
// so no fetch (and no act() warning) happens after a test ends.
vi.mock('react-inlinesvg', async () => {
  const React = await vi.importActual<typeof import('react')>('react');
  return {
    default: ({ title }: { title?: string }) => React.createElement('svg', { 'aria-label': title }),
  };
});
