// Drag-to-reorder for the outline editor, on @dnd-kit (MIT). Reflex 0.10 has no HTML5 drag events, so
// the list and its items are small React components that Reflex imports (components/slides/sortable.py).
// Only the grip handle starts a drag: the card's inputs keep their own pointer and keyboard behaviour.
// The handle is also a keyboard control (dnd-kit's sortable keyboard coordinates: Space, arrows, Space).
import React from "react";
import {
  DndContext,
  KeyboardSensor,
  PointerSensor,
  closestCenter,
  useSensor,
  useSensors,
} from "@dnd-kit/core";
import {
  SortableContext,
  sortableKeyboardCoordinates,
  useSortable,
  verticalListSortingStrategy,
} from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";

export function SortableList({ ids, onMove, id, className, children }) {
  const sensors = useSensors(
    // A few pixels of travel before a drag starts, so a click on the handle is not a drop.
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );
  const onDragEnd = ({ active, over }) => {
    if (over && active.id !== over.id && onMove) onMove(String(active.id), String(over.id));
  };
  return (
    <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={onDragEnd}>
      <SortableContext items={ids || []} strategy={verticalListSortingStrategy}>
        <div id={id} className={className} style={{ display: "flex", flexDirection: "column", gap: "12px", width: "100%" }}>
          {children}
        </div>
      </SortableContext>
    </DndContext>
  );
}

const GRIP = [[9, 5], [15, 5], [9, 12], [15, 12], [9, 19], [15, 19]];

export function SortableItem({ itemId, handleLabel, disabled, className, children }) {
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } =
    useSortable({ id: itemId, disabled: !!disabled });
  const style = {
    transform: CSS.Translate.toString(transform),
    transition,
    position: "relative",
    zIndex: isDragging ? 5 : undefined,
    opacity: isDragging ? 0.9 : 1,
    display: "flex",
    alignItems: "stretch",
    gap: "6px",
    width: "100%",
  };
  return (
    <div ref={setNodeRef} style={style} className={className} data-dragging={isDragging ? "yes" : "no"}>
      <button
        type="button"
        ref={setActivatorNodeRef}
        {...attributes}
        {...listeners}
        aria-label={handleLabel}
        title={handleLabel}
        disabled={!!disabled}
        className="drag-handle"
        style={{
          cursor: disabled ? "not-allowed" : isDragging ? "grabbing" : "grab",
          touchAction: "none",
          border: "none",
          borderRadius: "8px",
          background: "var(--gray-a3)",
          color: "var(--gray-11)",
          width: "20px",
          flex: "none",
          display: "flex",
          alignItems: "center",
          justifyContent: "center",
          opacity: disabled ? 0.4 : 1,
        }}
      >
        <svg width="12" height="20" viewBox="4 0 16 24" aria-hidden="true" fill="currentColor">
          {GRIP.map(([x, y]) => <circle key={`${x}-${y}`} cx={x} cy={y} r="1.6" />)}
        </svg>
      </button>
      <div style={{ flex: 1, minWidth: 0 }}>{children}</div>
    </div>
  );
}
