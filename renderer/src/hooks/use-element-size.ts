import { useLayoutEffect, useState, type RefObject } from 'react';

/**
 * Size of a scrolling element, updated on resize (ResizeObserver): the width its content can use
 * (inside a vertical scrollbar) and the height of its border box, so a horizontal scrollbar
 * coming and going (e.g. when a wide range is chosen) does not change it and re-render it all.
 */
export function useElementSize(ref: RefObject<HTMLElement | null>): { width: number; height: number } {
  const [size, setSize] = useState({ width: 0, height: 0 });
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setSize((s) => (s.width === el.clientWidth && s.height === el.offsetHeight ? s : { width: el.clientWidth, height: el.offsetHeight }));
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref]);
  return size;
}
