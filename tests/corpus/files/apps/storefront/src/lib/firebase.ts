import { initializeApp, getApps } from "firebase/app";
import { getAuth } from "firebase/auth";
import { getFirestore } from "firebase/firestore";

// Web config from the Firebase console (Project settings -> Your apps).
const firebaseConfig = {
  apiKey: "AIzaSyb3Nu8KxqZl9RnpTosPGtnGySdrKf0G06u",
  authDomain: "harbor-lights-prod.firebaseapp.com",
  projectId: "harbor-lights-prod",
  storageBucket: "harbor-lights-prod.appspot.com",
  messagingSenderId: "322720516153",
  appId: "1:325640705465:web:f5313ae4fbfd0241134b5e",
  measurementId: "G-8ZK3V1QX5B",
};

export const app = getApps().length ? getApps()[0] : initializeApp(firebaseConfig);
export const auth = getAuth(app);
export const db = getFirestore(app);
