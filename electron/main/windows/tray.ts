import { Menu, Tray, nativeImage } from 'electron';

/** The tray icon: TwinSnap keeps running here when its window is closed. */
export function createTray(icon: string, actions: { open: () => void; quit: () => void }): Tray {
  const tray = new Tray(nativeImage.createFromPath(icon));
  tray.setToolTip('TwinSnap — backups keep running');
  tray.setContextMenu(Menu.buildFromTemplate([{ label: 'Open TwinSnap', click: actions.open }, { type: 'separator' }, { label: 'Quit (stops scheduled backups)', click: actions.quit }]));
  tray.on('click', actions.open);
  return tray;
}
