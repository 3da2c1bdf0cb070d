/** A task as the tracker shows it; custom fields are read by name (ClickUp field names, or local ones). */
export interface TrackerTask {
  id: string;
  name: string;
  status: string;
  listId: string;
  url?: string;
  customFields: Record<string, string>;
  tags?: string[];
  checklists?: TrackerChecklist[];
}

export interface TrackerChecklist {
  name: string;
  items: { name: string; resolved: boolean }[];
}

export interface TrackerComment {
  id: string;
  taskId: string;
  text: string;
  author: string;
  createdAt: string;
}

/** Where people plan and watch deployments (ClickUp, or the embedded tracker of the local runtime). */
export interface Tracker {
  /** @throws NotFoundError when the task does not exist */
  getTask(taskId: string): Promise<TrackerTask>;
  listTasks(listId: string, status: string): Promise<TrackerTask[]>;
  comment(taskId: string, text: string): Promise<void>;
  setStatus(taskId: string, status: string): Promise<void>;
  getComments(taskId: string): Promise<TrackerComment[]>;
}
